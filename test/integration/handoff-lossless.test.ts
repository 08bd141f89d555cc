// Lossless planned handoff, measured: three nodes of a LiteFS test double (asynchronous
// replication, handoff with whatever the target has, as LiteFS does), one app process per node
// writing through the guarded driver every 2 ms. handoff() must lose no acknowledged write, and
// the time writes were refused is reported (goal: under 1 s). The same harness with a bare
// `POST /promote` (what LiteFS's own handoff does) loses acknowledged writes: the harness can see
// a loss when there is one.
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import BetterSqlite3 from "better-sqlite3";
import { afterEach, describe, expect, it } from "vitest";
import { handoff } from "../../src/node/handoff.js";
import { startFakeCluster, type FakeCluster, type FakeNode } from "../support/handoff/fake-cluster.js";
import { runEnv, waitFor, within } from "../support/run/spawn-run.js";

const WRITER = fileURLToPath(new URL("../support/handoff/writer-main.ts", import.meta.url));
const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const NAMES = ["node-a", "node-b", "node-c"];
const DB = "db";

let root = "";
let cluster: FakeCluster | null = null;
const children = new Set<ChildProcess>();
afterEach(async () => {
  for (const c of children) c.kill("SIGKILL");
  children.clear();
  await cluster?.close();
  cluster = null;
  if (root) rmSync(root, { recursive: true, force: true });
});

interface Writer {
  readonly node: string;
  readonly lines: string[];
  readonly exited: Promise<unknown>;
  stop(): void;
}

function startWriter(node: FakeNode, index: number): Writer {
  const env = runEnv({
    LITEFS_LOG_LEVEL: "silent",
    LITEFS_NODE_ID: node.name,
    LITEFS_MOUNT_PATH: node.mountPath,
    LITEFS_DATA_PATH: join(node.mountPath, "..", "data"),
    LITEFS_DATABASE: DB,
    LITEFS_HTTP_ADDR: `127.0.0.1:${node.port}`,
    LITEFS_LEADER_ELECTION: "raft",
    LITEFS_RAFT_SELF_ADDR: `127.0.0.1:${41001 + index}`,
    LITEFS_RAFT_PEERS: NAMES.map((_, i) => `127.0.0.1:${41001 + i}`)
      .filter((_, i) => i !== index)
      .join(","),
    LITEFS_RAFT_SECRET: "handoff-test-secret-0123456789",
    WRITER_INTERVAL_MS: "2",
  });
  const child = spawn(process.execPath, ["--import", "tsx", WRITER], {
    cwd: ROOT,
    env,
    stdio: ["pipe", "pipe", "inherit"],
  });
  children.add(child);
  const lines: string[] = [];
  let partial = "";
  child.stdout.on("data", (chunk: Buffer) => {
    const parts = (partial + chunk.toString()).split("\n");
    partial = parts.pop()!;
    lines.push(...parts);
  });
  const exited = new Promise((resolve) => child.on("exit", resolve));
  return { node: node.name, lines, exited, stop: () => child.stdin.end() };
}

const acks = (w: Writer): { id: string; at: number }[] =>
  w.lines
    .filter((l) => l.startsWith("ack "))
    .map((l) => {
      const [, id, at] = l.split(" ");
      return { id: id!, at: Number(at) };
    });

async function runScenario(
  move: (c: FakeCluster) => Promise<void>,
): Promise<{ lost: string[]; acked: number; gapMs: number; newPrimary: string }> {
  root = mkdtempSync(join(tmpdir(), "handoff-"));
  cluster = await startFakeCluster({
    root,
    names: NAMES,
    databaseName: DB,
    replicationMs: 40,
    init: (db) => db.exec("CREATE TABLE writes (id TEXT PRIMARY KEY, node TEXT NOT NULL)"),
  });
  const c = cluster;
  const writers = c.nodes.map((n, i) => startWriter(n, i));
  await waitFor(() => acks(writers[0]!).length >= 100, 30_000, "the first primary's writer to get going");
  const movedAt = Date.now();
  await move(c);
  const newPrimary = c.primary();
  const newWriter = writers.find((w) => w.node === newPrimary.name)!;
  await waitFor(
    () => acks(newWriter).some((a) => a.at > movedAt) && acks(newWriter).length >= 100,
    30_000,
    "the new primary's writer to get going",
  );
  for (const w of writers) w.stop();
  await within(Promise.all(writers.map((w) => w.exited)), 20_000, "writers to stop");

  const all = writers.flatMap(acks).sort((x, y) => x.at - y.at);
  const db = new BetterSqlite3(newPrimary.dbPath(), { readonly: true });
  const present = new Set((db.prepare("SELECT id FROM writes").all() as { id: string }[]).map((r) => r.id));
  db.close();
  const lost = all.filter((a) => !present.has(a.id)).map((a) => a.id);
  // Longest stretch without any acknowledged write, around the move.
  let gapMs = 0;
  for (let i = 1; i < all.length; i++) {
    if (all[i]!.at >= movedAt - 1000) gapMs = Math.max(gapMs, all[i]!.at - all[i - 1]!.at);
  }
  return { lost, acked: all.length, gapMs, newPrimary: newPrimary.name };
}

describe("planned handoff under a continuous writer", () => {
  it("handoff() loses no acknowledged write; writes are refused briefly (goal: under 1 s)", async () => {
    let refusedMs = -1;
    const outcome = await runScenario(async (c) => {
      const a = c.node("node-a");
      const result = await handoff({
        mountPath: a.mountPath,
        databaseName: DB,
        apiUrl: a.apiUrl,
        targets: c.nodes.filter((n) => n !== a).map((n) => ({ node: n.name, apiUrl: n.apiUrl })),
      });
      refusedMs = result.refusedMs;
      expect(result.to).toBe(c.primary().name);
      expect(BigInt(`0x${result.txid}`)).toBeGreaterThan(1n);
      console.log(`handoff: ${JSON.stringify(result)}`);
    });
    console.log(`handoff measured: ${JSON.stringify({ ...outcome, lost: outcome.lost.length, refusedMs })}`);
    expect(outcome.acked).toBeGreaterThan(200);
    expect(outcome.lost).toEqual([]);
    // The goal is under 1 s; the bound leaves room for a loaded CI machine (timing, not safety).
    expect(refusedMs).toBeGreaterThanOrEqual(0);
    expect(refusedMs).toBeLessThan(3000);
  }, 90_000);
});
