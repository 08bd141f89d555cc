// The LiteFS lease-loop model against 3 real lease-service processes, with faults. TTL 3 s (the
// shortest that keeps LiteFS's margin 2D + R < T + lock-delay), lock-delay 1 s.
//   - SIGKILL of the primary's host: a new primary once the Raft leader ends the silent member's
//     session (grace + margin, docs/fast-failover.md), within the old 2 x TTL bound.
//   - SIGSTOP of the primary's lease service: its LiteFS (model) stays blocked in a renew, so two
//     LiteFS primaries may overlap; the write gate must close on the paused side (no two
//     EFFECTIVE writers, sampled every 20 ms), and after SIGCONT it must demote at once.
//   - clean stop: release + destroy hands the lease over after lock-delay only.
import { afterEach, describe, expect, it } from "vitest";
import { loadSettings } from "../../src/config/index.js";
import { leaseProblem } from "../../src/lease/published-state.js";
import { raftLeaseStatus } from "../../src/election/raft-status.js";
import { IntervalRecorder, LiteFSLeaseModel, type ModelClock } from "../support/lease/litefs-model.js";
import { LeaseProcessCluster } from "../support/lease/process-cluster.js";

const TTL_MS = 3000;
const LOCK_DELAY_MS = 1000;
// 2 x TTL + lock-delay + an election (< 1 s at 50 ms ticks) + LiteFS's 1 s retry + process slack.
const FAILOVER_BOUND_MS = 2 * TTL_MS + LOCK_DELAY_MS + 1000 + 1000 + 2500;

const clock: ModelClock = { now: () => performance.now(), sleep: (ms) => new Promise((r) => setTimeout(r, ms)) };
const sleep = clock.sleep;

let cluster: LeaseProcessCluster | undefined;
let models: LiteFSLeaseModel[] = [];
let sampler: NodeJS.Timeout | undefined;

afterEach(async () => {
  if (sampler) clearInterval(sampler);
  for (const m of models) m.crash();
  models = [];
  await cluster?.close();
  cluster = undefined;
});

async function setup(recorder: IntervalRecorder): Promise<LeaseProcessCluster> {
  const c = new LeaseProcessCluster(3, { minTtl: "1s" });
  cluster = c;
  await c.init();
  await c.startAll();
  models = c.names.map(
    (name, i) =>
      new LiteFSLeaseModel({
        name,
        // LiteFS's client has no timeout; a long one keeps a blocked call blocked, yet bounded.
        consul: () => c.consul(i, 30_000),
        clock,
        recorder,
        ttl: "3s",
        ttlMs: TTL_MS,
      }),
  );
  models.forEach((m) => m.start());
  return c;
}

/** Samples "effective writers" (LiteFS primary AND the gate open) every 20 ms; returns the violations seen. */
function sampleWriters(c: LeaseProcessCluster): string[] {
  const bad: string[] = [];
  sampler = setInterval(() => {
    const now = process.hrtime.bigint();
    const writers = models
      .filter((m, i) => m.isPrimary && c.isRunning(i) && leaseProblem(c.readState(i), now) === null)
      .map((m) => m.name);
    if (writers.length > 1) bad.push(`${writers.join("+")} at ${performance.now().toFixed(0)}`);
  }, 20);
  return bad;
}

/** What `litefs-node status` reports about node i's lease. */
function statusOf(c: LeaseProcessCluster, i: number) {
  const settings = loadSettings(
    {
      nodeId: c.names[i]!,
      leaderElection: "raft",
      mountPath: c.mountPath(i),
      raft: { selfAddr: "127.0.0.1:1", peers: ["127.0.0.1:2"], secret: "0123456789abcdef" },
    },
    {},
  );
  return raftLeaseStatus(settings);
}

async function waitForPrimary(exclude: number | null, timeoutMs: number): Promise<number> {
  const end = performance.now() + timeoutMs;
  while (performance.now() < end) {
    const i = models.findIndex((m, k) => k !== exclude && m.isPrimary);
    if (i >= 0) return i;
    await sleep(20);
  }
  throw new Error(`no primary within ${timeoutMs} ms`);
}

describe("LiteFS lease-loop model x 3 lease-service processes", () => {
  it("fails over after SIGKILL of the primary's host within the bound, never two primaries", async () => {
    const recorder = new IntervalRecorder();
    const c = await setup(recorder);
    const writerViolations = sampleWriters(c);
    const first = await waitForPrimary(null, 15_000);
    await sleep(2 * TTL_MS); // a few renews
    expect(models[first]!.isPrimary).toBe(true);
    const gate = leaseProblem(c.readState(first), process.hrtime.bigint());
    expect(gate).toBeNull();

    const killedAt = performance.now();
    models[first]!.crash();
    await c.kill(first);
    const second = await waitForPrimary(first, FAILOVER_BOUND_MS + 2000);
    const failoverMs = performance.now() - killedAt;
    expect(failoverMs).toBeLessThan(FAILOVER_BOUND_MS);
    // The leader ends the dead member's session after its grace (2 s) + margin (500 ms) of
    // silence (docs/fast-failover.md), not before: 2 x TTL no longer sets the pace.
    expect(failoverMs).toBeGreaterThan(2000 + 500 - 200);

    // The killed host comes back (its Raft storage survived) and joins as a replica.
    await c.start(first);
    models[first] = new LiteFSLeaseModel({
      name: c.names[first]!,
      consul: () => c.consul(first, 30_000),
      clock,
      recorder,
      ttl: "3s",
      ttlMs: TTL_MS,
    });
    models[first].start();
    await sleep(3000);
    expect(models[second]!.isPrimary).toBe(true);
    expect(models[first].isPrimary).toBe(false);
    expect(recorder.overlaps(performance.now())).toEqual([]);
    expect(writerViolations).toEqual([]);
  }, 60_000);

  it("SIGSTOP of the primary's lease service: the gate closes on the paused side, a new primary takes over, the old one demotes after SIGCONT", async () => {
    const recorder = new IntervalRecorder();
    const c = await setup(recorder);
    const writerViolations = sampleWriters(c);
    const first = await waitForPrimary(null, 15_000);
    await sleep(TTL_MS);
    c.pause(first);
    const pausedAt = performance.now();
    // The paused service cannot refresh quorum contact: the gate closes within the grace (2 s).
    await sleep(2600);
    expect(leaseProblem(c.readState(first), process.hrtime.bigint())).toMatch(/quorum contact|deadline/);
    const second = await waitForPrimary(first, FAILOVER_BOUND_MS + 2000);
    expect(performance.now() - pausedAt).toBeLessThan(FAILOVER_BOUND_MS);
    c.resume(first);
    const resumedAt = performance.now();
    while (models[first]!.isPrimary && performance.now() - resumedAt < 5000) await sleep(20);
    expect(models[first]!.isPrimary).toBe(false);
    expect(performance.now() - resumedAt).toBeLessThan(3000);
    await sleep(1500);
    expect(models[second]!.isPrimary).toBe(true);
    expect(writerViolations).toEqual([]);
    // Overlapping LiteFS primaries are possible only for the paused side.
    expect(recorder.overlaps(performance.now(), (i) => i.node === c.names[first])).toEqual([]);
  }, 60_000);

  it("a clean stop (release, then destroy) hands over after lock-delay, without waiting for the TTL", async () => {
    const recorder = new IntervalRecorder();
    const c = await setup(recorder);
    const writerViolations = sampleWriters(c);
    const first = await waitForPrimary(null, 15_000);
    await sleep(500);
    const stoppedAt = performance.now();
    await models[first]!.stop();
    await waitForPrimary(first, 5000);
    expect(performance.now() - stoppedAt).toBeLessThan(LOCK_DELAY_MS + 1000 + 1500);
    expect(recorder.overlaps(performance.now())).toEqual([]);
    expect(writerViolations).toEqual([]);
  }, 60_000);

  it("handoff and back: another node renews the same session, then acquires with it; the former holder can take it back later", async () => {
    const recorder = new IntervalRecorder();
    const c = await setup(recorder);
    const first = await waitForPrimary(null, 15_000);
    const target = (first + 1) % 3;
    const sid = models[first]!.handOff();
    expect(sid).not.toBeNull();
    models[target]!.takeOver(sid!);
    const next = await waitForPrimary(first, 3000);
    expect(next).toBe(target);
    expect(models[target]!.sessionId).toBe(sid);
    await sleep(300);
    expect(leaseProblem(c.readState(target), process.hrtime.bigint())).toBeNull();
    // The former holder no longer says it holds the lease (status reads this file).
    const former = c.readState(first);
    expect(former.ok && former.state).toMatchObject({ holder: false, leaseSession: sid, primary: c.names[target] });
    expect(statusOf(c, first)).toMatchObject({ holder: false, leaseHolder: c.names[target], gate: "closed" });

    // Later than the former holder's last renew + TTL: its old deadline must not refuse the handoff back.
    await sleep(TTL_MS + 500);
    expect(models[target]!.handOff()).toBe(sid);
    models[first]!.takeOver(sid!);
    expect(await waitForPrimary(target, 3000)).toBe(first);
    expect(models[first]!.sessionId).toBe(sid);
    await sleep(300);
    expect(leaseProblem(c.readState(first), process.hrtime.bigint())).toBeNull();
    expect(statusOf(c, target)).toMatchObject({ holder: false, leaseHolder: c.names[first] });
    expect(statusOf(c, first)).toMatchObject({ holder: true, gate: "open" });
    expect(recorder.overlaps(performance.now())).toEqual([]);
  }, 60_000);
});
