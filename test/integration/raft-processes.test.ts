// Three Raft nodes as separate Node processes on 127.0.0.1, every link through a
// fault-injecting proxy. After each fault (SIGKILL + restart, SIGSTOP/SIGCONT, one-way cut,
// lossy and slow links, a node that lost its disk) a leader must return, and every write that
// was acknowledged must be readable, linearizably, from every live node.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { ProcessCluster } from "../support/raft/process-cluster.js";

const IDS = ["n1", "n2", "n3"];
let root: string;
let cluster: ProcessCluster;
const acked = new Map<string, string>();
let seq = 0;

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), "raft-processes-"));
  cluster = new ProcessCluster(IDS, root, {
    secret: "process-test-secret-0123456789",
    tickMs: 50,
    clusterId: "proc-test",
    snapshotEvery: 8,
  });
  await cluster.init();
});

afterAll(async () => {
  await cluster?.close();
  rmSync(root, { recursive: true, force: true });
});

async function writeSome(n: number, label: string): Promise<void> {
  for (let i = 0; i < n; i++) {
    const key = `${label}-${seq++}`;
    const value = `v${seq}`;
    // Writes are only expected to succeed while a majority is reachable; every acknowledged one
    // is recorded and checked later, and a phase must get at least one through.
    if (await cluster.put(key, value)) acked.set(key, value);
  }
}

async function expectAllAckedEverywhere(ids: readonly string[]): Promise<void> {
  for (const id of ids) {
    const state = await cluster.dump(id);
    const missing = [...acked].filter(([k, v]) => state.get(k) !== v);
    expect(missing, `acknowledged writes missing or wrong on ${id}`).toEqual([]);
  }
}

it(
  "survives kills, pauses, partitions and lossy links without losing acknowledged writes",
  { timeout: 90_000 },
  async () => {
    const started = Date.now();
    const phase = (name: string) => process.stderr.write(`[raft-processes] ${name} at ${Date.now() - started} ms\n`);

    await Promise.all(IDS.map((id) => cluster.start(id, { bootstrap: true })));
    const l0 = await cluster.waitForLeader();
    await writeSome(5, "initial");
    expect(acked.size).toBe(5);
    phase(`initial leader ${l0}`);

    // SIGKILL the leader: the others elect a new one; the killed node restarts from its disk.
    await cluster.kill(l0);
    const l1 = await cluster.waitForLeader({ not: l0 });
    const before = acked.size;
    await writeSome(5, "after-kill");
    expect(acked.size).toBe(before + 5);
    await cluster.start(l0);
    await expectAllAckedEverywhere(IDS);
    phase(`after SIGKILL+restart, leader ${l1}`);

    // SIGSTOP the leader (a GC pause / frozen VM): a new leader; after SIGCONT the old one
    // rejoins as a follower.
    cluster.pause(l1);
    const l2 = await cluster.waitForLeader({ among: IDS.filter((id) => id !== l1), not: l1 });
    const beforePause = acked.size;
    await writeSome(5, "during-pause");
    expect(acked.size).toBe(beforePause + 5);
    cluster.resume(l1);
    await cluster.waitForLeader();
    await expectAllAckedEverywhere(IDS);
    phase(`after SIGSTOP/SIGCONT, leader ${l2}`);

    // One-way cut: the leader can no longer reach anyone (it still hears them). Followers time out
    // and elect a new leader; the old one learns the new term and steps down.
    const l3 = await cluster.waitForLeader();
    cluster.proxy.setFaultsWhere((name) => name.startsWith(`${l3}->`), { cut: true });
    const l4 = await cluster.waitForLeader({ not: l3 });
    const beforeCut = acked.size;
    await writeSome(5, "one-way-cut");
    expect(acked.size).toBe(beforeCut + 5);
    cluster.proxy.heal();
    await cluster.waitForLeader();
    await expectAllAckedEverywhere(IDS);
    phase(`after one-way cut of ${l3}, leader ${l4}`);

    // Lossy, slow links everywhere (a fifth of the records retransmitted, now and then a reset
    // connection): progress continues (with retries), nothing acknowledged is lost.
    cluster.proxy.setFaultsWhere(() => true, { loss: 0.2, reset: 0.02, delayMs: 15 });
    const beforeLoss = acked.size;
    await writeSome(5, "lossy");
    expect(acked.size).toBeGreaterThan(beforeLoss);
    cluster.proxy.heal();
    await cluster.waitForLeader();
    await expectAllAckedEverywhere(IDS);
    phase("after lossy links");

    // A follower loses its disk: it must refuse to rejoin under its old id.
    const leader = await cluster.waitForLeader();
    const victim = IDS.find((id) => id !== leader)!;
    await cluster.kill(victim);
    rmSync(cluster.dataDir(victim), { recursive: true, force: true });
    const refused = await cluster.startExpectingFailure(victim);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain(`Raft storage for node "${victim}" in cluster "proc-test" is missing`);
    const live = IDS.filter((id) => id !== victim);
    await cluster.waitForLeader({ among: live });
    await writeSome(3, "two-nodes");
    await expectAllAckedEverywhere(live);
    phase("after wiped-disk refusal");
    // Compaction ran in the real processes too (snapshot every 8 entries), and restarts used it.
    for (const id of live) expect((await cluster.status(id))?.snapshotIndex ?? 0).toBeGreaterThan(0);
  },
);
