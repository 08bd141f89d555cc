// `litefs-node run`: without a LiteFS binary it refuses clearly; with a fake `litefs` (a script
// that records what it got and behaves like `litefs mount`) two nodes prove the generated config,
// the order (Raft group joined before LiteFS starts), signal forwarding and a clean stop.
import type { ChildProcess } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse } from "yaml";
import { afterEach, describe, expect, it } from "vitest";
import { leaseStatePath } from "../../src/lease/published-state.js";
import { readDirectory } from "../../src/lease/node-directory.js";
import { net } from "../support/raft/ports.js";
import {
  FAKE_LITEFS,
  records,
  runEnv,
  spawnRun as spawnRunProcess,
  waitFor,
  within,
} from "../support/run/spawn-run.js";

const SECRET = "run-test-secret-0123456789";

let root: string;
const children = new Set<ChildProcess>();
afterEach(() => {
  for (const c of children) c.kill("SIGKILL");
  children.clear();
  if (root) rmSync(root, { recursive: true, force: true });
});

const baseEnv = runEnv;
const spawnRun = (args: string[], env: NodeJS.ProcessEnv) => spawnRunProcess(args, env, children);
const FAKE = FAKE_LITEFS;

describe("litefs-node run without LiteFS", () => {
  it("exits non-zero and says how to get the binary when litefs is not on PATH", async () => {
    root = mkdtempSync(join(tmpdir(), "run-nobin-"));
    const { exited, out } = spawnRun(
      [],
      baseEnv({
        PATH: join(root, "empty"),
        LITEFS_NODE_ID: "node-a",
        LITEFS_PRIMARY_HOSTNAME: "node-a",
        LITEFS_MOUNT_PATH: join(root, "mnt"),
        LITEFS_DATA_PATH: join(root, "data"),
      }),
    );
    const code = await within(exited, 20_000, "run exit");
    expect(code).not.toBe(0);
    expect(out()).toMatch(/no LiteFS binary found/);
    expect(out()).toMatch(/LITEFS_BIN/);
  });

  it("names LITEFS_BIN when it points at nothing", async () => {
    root = mkdtempSync(join(tmpdir(), "run-nobin-"));
    const { exited, out } = spawnRun(
      [],
      baseEnv({
        LITEFS_BIN: join(root, "nope"),
        LITEFS_NODE_ID: "node-a",
        LITEFS_PRIMARY_HOSTNAME: "node-a",
        LITEFS_MOUNT_PATH: join(root, "mnt"),
        LITEFS_DATA_PATH: join(root, "data"),
      }),
    );
    expect(await within(exited, 20_000, "run exit")).toBe(1);
    expect(out()).toMatch(/LITEFS_BIN is ".*nope", which is not an executable file/);
  });
});

/** Two `litefs-node run` nodes (raft) over the fake litefs; `httpPorts` turns on its LiteFS HTTP API. */
async function startRaftPair(prefix: string, args: string[], withHttp = false) {
  root = mkdtempSync(join(tmpdir(), prefix));
  const bin = join(root, "bin");
  mkdirSync(bin);
  const fake = join(bin, "litefs");
  writeFileSync(fake, `#!/bin/sh\nexec "${process.execPath}" --import tsx "${FAKE}" "$@"\n`);
  chmodSync(fake, 0o755);
  const ports = [await net.freePort(), await net.freePort()];
  const leasePorts = [await net.freePort(), await net.freePort()];
  const httpPorts = [await net.freePort(), await net.freePort()];
  const names = ["node-a", "node-b"];
  const runs = names.map((name, i) => {
    const dir = join(root, name);
    mkdirSync(join(dir, "mnt"), { recursive: true });
    const env = baseEnv({
      PATH: `${bin}:${process.env["PATH"] ?? ""}`,
      FAKE_LITEFS_RECORD: join(dir, "record.ndjson"),
      LITEFS_NODE_ID: name,
      LITEFS_LEADER_ELECTION: "raft",
      LITEFS_MOUNT_PATH: join(dir, "mnt"),
      LITEFS_DATA_PATH: join(dir, "data"),
      LITEFS_RAFT_SELF_ADDR: `127.0.0.1:${ports[i]}`,
      LITEFS_RAFT_PEERS: `127.0.0.1:${ports[1 - i]}`,
      LITEFS_RAFT_SECRET: SECRET,
      LITEFS_RAFT_LEASE_PORT: String(leasePorts[i]),
      LITEFS_RAFT_BOOTSTRAP: "true",
      ...(withHttp
        ? {
            FAKE_LITEFS_HTTP: "1",
            LITEFS_HTTP_ADDR: `127.0.0.1:${httpPorts[i]}`,
            LITEFS_ADVERTISE_URL: `http://127.0.0.1:${httpPorts[i]}`,
            LITEFS_LOG_LEVEL: "info",
          }
        : {}),
    });
    return { dir, env, record: join(dir, "record.ndjson"), ...spawnRun(args, env) };
  });
  return { ports, leasePorts, httpPorts, names, runs, args };
}

/** Waits until one run's fake LiteFS became primary and the other's a replica. */
async function primaryAndReplica<R extends { record: string }>(runs: readonly R[], timeoutMs = 60_000) {
  const primaryIdx =
    (await waitFor(
      () => {
        const p = runs.findIndex((r) => records(r.record).some((e) => e.event === "primary"));
        const other = runs.findIndex((r) => records(r.record).some((e) => e.event === "replica"));
        return p >= 0 && other >= 0 ? p + 1 : 0;
      },
      timeoutMs,
      "a primary and a replica",
    )) - 1;
  return { primaryIdx, p: runs[primaryIdx]!, other: runs[1 - primaryIdx]! };
}

/**
 * Once one node's fake LiteFS holds the lease: that node (`p`, its LiteFS pid and session), the
 * other, and the lease session the other node's lease service publishes.
 */
async function heldLease<R extends { record: string; dir: string }>(runs: readonly R[]) {
  const { p, other } = await primaryAndReplica(runs);
  const otherState = leaseStatePath(join(other.dir, "mnt"));
  const leaseSession = (): string | null =>
    (JSON.parse(readFileSync(otherState, "utf8")) as { leaseSession: string | null }).leaseSession;
  const held = records(p.record).find((e) => e.event === "primary")!.session as string;
  await waitFor(() => leaseSession() === held, 5000, "the other node sees the lease held");
  const pid = records(p.record).find((e) => e.event === "start")!.pid as number;
  return { p, other, held, pid, leaseSession };
}

describe("litefs-node run with a fake litefs (raft mode, two nodes)", () => {
  it("writes the config, joins Raft before starting LiteFS, forwards signals and stops cleanly", async () => {
    const { ports, leasePorts, names, runs } = await startRaftPair("run-raft-", [
      "--join-timeout",
      "60",
      "--",
      "node",
      "server.js",
      "--port",
      "8080",
      "it's",
    ]);

    // Both LiteFS stand-ins start, each after its lease service joined (no 500 at their first call).
    for (const r of runs)
      await waitFor(
        () => records(r.record).find((e) => e.event === "lease-service"),
        60_000,
        () => `lease-service probe; output of both nodes: ${runs.map((x) => x.out()).join(" | ")}`,
      );
    for (const [i, r] of runs.entries()) {
      const recs = records(r.record);
      const start = recs.find((e) => e.event === "start")!;
      expect(start.args).toEqual(["mount", "-config", join(r.dir, "data", "litefs.yml")]);
      const cfg = parse(start.configText as string) as { lease: unknown; exec: unknown; fuse: { dir: unknown } };
      // The node's own token, made at first start and kept 0600 beside the Raft data, is the URL's password.
      const tokenPath = join(r.dir, "data", "raft", "lease-token");
      expect(statSync(tokenPath).mode & 0o777).toBe(0o600);
      const token = readFileSync(tokenPath, "utf8").trim();
      expect(Buffer.from(token, "base64url").length).toBeGreaterThanOrEqual(16);
      expect(cfg.lease).toMatchObject({
        type: "consul",
        hostname: names[i],
        candidate: true,
        consul: {
          url: `http://:${token}@127.0.0.1:${leasePorts[i]}`,
          key: "litefs/primary",
          ttl: "5s",
          "lock-delay": "500ms",
        },
      });
      expect(statSync(join(r.dir, "data", "litefs.yml")).mode & 0o777).toBe(0o600);
      expect(r.out()).not.toContain(token);
      // Without the token the lease service answers nothing but 403.
      expect((await fetch(`http://127.0.0.1:${leasePorts[i]}/v1/kv/litefs/primary`)).status).toBe(403);
      expect(cfg.exec).toBe(`node server.js --port 8080 'it'\\''s'`);
      expect(cfg.fuse.dir).toBe(join(r.dir, "mnt"));
      expect(recs.find((e) => e.event === "lease-service")!.status).not.toBe(500);
    }
    // Exactly one of them takes the lease; the lease state file shows it.
    const { primaryIdx } = await primaryAndReplica(runs, 20_000);
    const statePath = leaseStatePath(join(runs[primaryIdx]!.dir, "mnt"));
    await waitFor(
      () => existsSync(statePath) && (JSON.parse(readFileSync(statePath, "utf8")) as { holder: boolean }).holder,
      5000,
      "published holder",
    );

    // Each run registered its node in the member directory (what a handoff reads), through the real lease service.
    const token0 = readFileSync(join(runs[0]!.dir, "data", "raft", "lease-token"), "utf8").trim();
    const directory = await readDirectory(
      `http://127.0.0.1:${leasePorts[0]}`,
      token0,
      ports.map((p) => `127.0.0.1:${p}`),
    );
    expect(directory).toEqual({ entries: names.map((n) => ({ node: n, apiUrl: `http://${n}:20202` })), problems: [] });

    // Signals are forwarded to LiteFS.
    const p = runs[primaryIdx]!;
    p.child.kill("SIGUSR1");
    await waitFor(
      () => records(p.record).find((e) => e.event === "signal" && e.signal === "SIGUSR1"),
      5000,
      "SIGUSR1 forwarded",
    );

    // Clean stop: LiteFS gets SIGTERM, releases and destroys through the still-running lease
    // service, exits; then run stops the service (state file removed) and exits 0.
    p.child.kill("SIGTERM");
    expect(await within(p.exited, 15_000, "run exit after SIGTERM")).toBe(0);
    const recs = records(p.record);
    expect(recs.find((e) => e.event === "released")).toMatchObject({ release: "true", destroy: "true" });
    expect(existsSync(statePath)).toBe(false);

    const other = runs[1 - primaryIdx]!;
    other.child.kill("SIGINT");
    expect(await within(other.exited, 15_000, "second run exit")).toBe(0);
  }, 150_000);

  it("SIGTERM on the primary hands the primary over (lossless handoff) before LiteFS stops", async () => {
    const { runs, names } = await startRaftPair(
      "run-handoff-",
      ["--join-timeout", "60", "--", "node", "server.js"],
      true,
    );
    const { primaryIdx, p, other } = await primaryAndReplica(runs);

    p.child.kill("SIGTERM");
    expect(await within(p.exited, 30_000, "run exit after SIGTERM"), p.out()).toBe(0);
    // The old primary gave its session away (LiteFS's handoff) before it got SIGTERM...
    const given = records(p.record).find((e) => e.event === "handed-off");
    const stopped = records(p.record).find((e) => e.event === "signal" && e.signal === "SIGTERM");
    expect(given, p.out()).toBeDefined();
    expect(stopped).toBeDefined();
    expect(given!.t as number).toBeLessThanOrEqual(stopped!.t as number);
    expect(p.out(), p.out()).toContain(JSON.stringify(`"${names[1 - primaryIdx]}" is primary now`).slice(1, -1));
    // ...and the other node renewed and acquired the lease with it: it is primary, and its lease
    // service publishes it as the holder.
    expect(records(other.record).find((e) => e.event === "promoted")).toMatchObject({ renew: 200, acquire: "true" });
    const otherState = leaseStatePath(join(other.dir, "mnt"));
    await waitFor(
      () => (JSON.parse(readFileSync(otherState, "utf8")) as { holder: boolean }).holder,
      5000,
      "the new primary published as holder",
    );

    other.child.kill("SIGINT");
    expect(await within(other.exited, 15_000, "second run exit")).toBe(0);
  }, 150_000);

  it("when LiteFS dies holding the lease, run ends its session at once so another node can take over", async () => {
    const { runs } = await startRaftPair("run-crash-", ["--join-timeout", "60"]);
    const { p, other, pid, leaseSession } = await heldLease(runs);
    const killedAt = performance.now();
    process.kill(pid, "SIGKILL");
    // Freed at once (about 100 ms here), not after the member-silence wait (2.5 s after this lease
    // service stops) or never (two members: the other alone has no quorum).
    await waitFor(
      () => leaseSession() === null,
      2000,
      () => `the lease freed; ${p.out()}`,
    );
    const freedMs = performance.now() - killedAt;
    console.log(`lease freed ${Math.round(freedMs)} ms after SIGKILL of LiteFS`);
    expect(await within(p.exited, 20_000, "run exit"), p.out()).toBe(128 + 9);
    expect(p.out()).toContain("LiteFS exited holding the lease: ended its session");
    expect(freedMs).toBeLessThan(2000);
    other.child.kill("SIGINT");
    expect(await within(other.exited, 15_000, "second run exit")).toBe(0);
  }, 120_000);

  it("a node that crashed and restarted at once ends the session its previous LiteFS held", async () => {
    const { runs, args } = await startRaftPair("run-restart-", ["--join-timeout", "60"]);
    const { p, other, held, pid, leaseSession } = await heldLease(runs);
    // The whole node dies (run, its lease service and LiteFS) and a supervisor starts it again.
    process.kill(pid, "SIGKILL");
    p.child.kill("SIGKILL");
    await within(p.exited, 20_000, "run exit");
    const again = spawnRun(args, p.env);
    // run starts LiteFS only after it rejoined the Raft group (and ended the old session).
    await waitFor(
      () => records(p.record).filter((e) => e.event === "start").length === 2,
      60_000,
      () => `rejoin: ${again.out()}`,
    );
    // Ended on rejoin, not after the TTL (the restarted member is heard again, so the leader never
    // counts it silent).
    await waitFor(
      () => leaseSession() !== held,
      3000,
      () => `old session ended; ${again.out()}`,
    );
    expect(again.out()).toContain("ended the lease session this node's previous LiteFS still held");
    again.child.kill("SIGINT");
    expect(await within(again.exited, 15_000, "restarted run exit")).toBe(0);
    other.child.kill("SIGINT");
    expect(await within(other.exited, 15_000, "second run exit")).toBe(0);
  }, 150_000);

  it("exits with LiteFS's exit code and restarts nothing", async () => {
    root = mkdtempSync(join(tmpdir(), "run-static-"));
    const bin = join(root, "bin");
    mkdirSync(bin);
    writeFileSync(join(bin, "litefs"), `#!/bin/sh\necho "$@" > "${join(root, "args")}"\nexit 7\n`);
    chmodSync(join(bin, "litefs"), 0o755);
    const { exited } = spawnRun(
      [],
      baseEnv({
        LITEFS_BIN: join(bin, "litefs"),
        LITEFS_NODE_ID: "node-a",
        LITEFS_PRIMARY_HOSTNAME: "node-a",
        LITEFS_MOUNT_PATH: join(root, "mnt"),
        LITEFS_DATA_PATH: join(root, "data"),
      }),
    );
    expect(await within(exited, 20_000, "run exit")).toBe(7);
    expect(readFileSync(join(root, "args"), "utf8").trim()).toBe(`mount -config ${join(root, "data", "litefs.yml")}`);
    expect(parse(readFileSync(join(root, "data", "litefs.yml"), "utf8"))).toMatchObject({
      lease: { type: "static", candidate: true },
    });
  }, 30_000);
});
