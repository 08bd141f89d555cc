// `litefs-node handoff` as a user runs it, against the LiteFS test double: targets come from the
// member directory (written here with the same registerMember `run` uses, into a minimal stand-in
// of the lease service's KV; the real lease service's KV is covered by lease-run.test.ts).
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { registerMember } from "../../src/lease/node-directory.js";
import { runCliAsync as runCli } from "../support/cli.js";
import { startFakeCluster, type FakeCluster } from "../support/handoff/fake-cluster.js";

let root = "";
let cluster: FakeCluster | null = null;
let kv: Server | null = null;
afterEach(async () => {
  await cluster?.close();
  await new Promise((r) => (kv ? kv.close(r) : r(null)));
  cluster = null;
  kv = null;
  if (root) rmSync(root, { recursive: true, force: true });
});

/** Consul KV subset: plain PUT stores the body, GET answers Consul's entry array (404 when absent). */
async function startKv(): Promise<number> {
  const store = new Map<string, Buffer>();
  kv = createServer((req, res) => {
    const key = decodeURIComponent(new URL(req.url ?? "/", "http://x").pathname.replace(/^\/v1\/kv\//, ""));
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      if (req.method === "PUT") {
        store.set(key, Buffer.concat(chunks));
        res.end("true");
      } else if (store.has(key)) {
        res.end(
          JSON.stringify([
            {
              Key: key,
              Value: store.get(key)!.toString("base64"),
              Flags: 0,
              LockIndex: 0,
              CreateIndex: 1,
              ModifyIndex: 1,
            },
          ]),
        );
      } else {
        res.statusCode = 404;
        res.end();
      }
    });
  });
  await new Promise<void>((r) => kv!.listen(0, "127.0.0.1", r));
  return (kv.address() as AddressInfo).port;
}

describe("litefs-node handoff", () => {
  it("hands the primary to the named node, then refuses clearly on a node that is no longer primary", async () => {
    root = mkdtempSync(join(tmpdir(), "handoff-cli-"));
    cluster = await startFakeCluster({
      root,
      names: ["node-a", "node-b"],
      databaseName: "db",
      init: (db) => db.exec("CREATE TABLE t (x)"),
    });
    const leasePort = await startKv();
    const members = ["127.0.0.1:47001", "127.0.0.1:47002"];
    for (const [i, n] of cluster.nodes.entries())
      await registerMember(`http://127.0.0.1:${leasePort}`, null, members[i]!, { node: n.name, apiUrl: n.apiUrl });
    const a = cluster.node("node-a");
    const env = {
      LITEFS_NODE_ID: "node-a",
      LITEFS_MOUNT_PATH: a.mountPath,
      LITEFS_DATA_PATH: join(root, "node-a", "data"),
      LITEFS_DATABASE: "db",
      LITEFS_HTTP_ADDR: `127.0.0.1:${a.port}`,
      LITEFS_LEADER_ELECTION: "raft",
      LITEFS_RAFT_SELF_ADDR: members[0]!,
      LITEFS_RAFT_PEERS: members[1]!,
      LITEFS_RAFT_SECRET: "handoff-cli-secret-0123456789",
      LITEFS_RAFT_LEASE_PORT: String(leasePort),
    };

    const unknown = await runCli(["handoff", "--to", "node-x"], env);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr.trim().split("\n")).toHaveLength(1);
    expect(unknown.stderr).toMatch(/"node-x" is not a registered member \(registered: node-a, node-b\)/);
    expect(cluster.primary().name).toBe("node-a");

    const moved = await runCli(["handoff", "--to=node-b", "--timeout", "5s"], env);
    expect(moved.code, moved.stderr).toBe(0);
    expect(moved.stdout).toMatch(
      /^handoff: "node-b" is primary now \(was "node-a"\), TXID [0-9a-f]{16}; writes refused here for \d+ ms\n$/,
    );
    expect(cluster.primary().name).toBe("node-b");
    expect(cluster.promotions).toEqual(["node-b"]);

    const again = await runCli(["handoff"], env);
    expect(again.code).toBe(1);
    expect(again.stderr).toBe(
      'litefs-node: handoff: this node is not the primary ("node-b" is): nothing to hand off\n',
    );
  }, 60_000);
});
