// Guard refusals are counted by reason in the process-wide metrics that /litefs-node/metrics serves.
import { afterEach, describe, expect, it } from "vitest";
import { loadSettings } from "../../src/config/index.js";
import { drizzle, type LiteFSDrizzleDatabase } from "../../src/driver/drizzle/index.js";
import { defaultMetrics } from "../../src/health/metrics.js";
import { createTempMount, type TempMount } from "../support/litefs-mount.js";

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function open(mount: TempMount, nodeId: string): LiteFSDrizzleDatabase {
  const settings = loadSettings(
    {
      nodeId,
      primaryHostname: "node-a",
      mountPath: mount.path,
      dataPath: `${mount.path}-data`,
      databaseName: mount.databaseName,
      httpAddr: "127.0.0.1:20299",
    },
    {},
  );
  // fileGateCacheMs 0: the test flips the mount and wants the very next statement judged by it.
  const db = drizzle({ settings, nodeOptions: { pollIntervalMs: 0, readyTimeoutMs: 500, fileGateCacheMs: 0 } });
  cleanups.push(() => db.$close());
  return db;
}

async function refusals(): Promise<Map<string, number>> {
  const text = await defaultMetrics().render();
  const counts = new Map<string, number>();
  for (const m of text.matchAll(/^litefs_node_write_refusals_total\{reason="([^"]+)"\} (\d+)$/gm))
    counts.set(m[1]!, Number(m[2]));
  return counts;
}

describe("refusal metrics", () => {
  it("counts each refused statement once, by reason, and nothing for reads or probes", async () => {
    const mount = createTempMount({ role: "primary" });
    cleanups.push(() => mount.cleanup());
    const primary = open(mount, "node-a");
    primary.$client.exec("CREATE TABLE t (x INTEGER)");
    const before = await refusals();
    expect(before.get("replica") ?? 0).toBe(0);

    mount.setReplica({ primary: "node-a" });
    const insert = primary.$client.prepare("INSERT INTO t VALUES (1)");
    expect(() => insert.run()).toThrow(/replica/);
    expect(() => primary.$client.exec("DELETE FROM t")).toThrow(/replica/);
    // A read transaction on a replica probes the gate (BEGIN DEFERRED) without a refusal.
    primary.$client.transaction(() => primary.$client.prepare("SELECT count(*) FROM t").get())();
    primary.$client.prepare("SELECT * FROM t").all();

    mount.setPrimary(); // node-a primary again; now node-b claims primary: split brain
    const other = open(mount, "node-b");
    expect(() => other.$client.prepare("INSERT INTO t VALUES (2)").run()).toThrow(/split brain/);

    const after = await refusals();
    expect(after.get("replica")).toBe(2);
    expect(after.get("split-brain")).toBe(1);
  });
});
