// The lease simulator: the real LeaseService + LeaseStateMachine on RaftCore in virtual time, with
// the LiteFS lease-loop model on every host, under crashes, pauses, isolation, clean stops and
// handoffs (fast-check generates and shrinks the schedules).
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { LeaseSim, runLeaseSchedule, SIM_LOCK_DELAY_MS, SIM_TTL_MS, type ScheduledFault } from "./lease-sim.js";

// A primary exists again within 2 x TTL + lock-delay + an election (< 1 s at 50 ms ticks) +
// LiteFS's 1 s acquire retry (+ the 1 s renew retry and answer deadline as slack).
const FAILOVER_BOUND_MS = 2 * SIM_TTL_MS + SIM_LOCK_DELAY_MS + 1000 + 1000 + 2000;

function describeOverlaps(sim: LeaseSim): string[] {
  return sim
    .overlaps()
    .map(([a, b]) => `${a.node}[${a.start}-${a.end ?? "now"}] x ${b.node}[${b.start}-${b.end ?? "now"}]`);
}

describe("lease simulator", () => {
  it("elects one LiteFS primary and keeps it while nothing fails", async () => {
    const sim = new LeaseSim({ seed: 1 });
    sim.boot();
    const first = await sim.waitForPrimary(8000);
    expect(first).not.toBeNull();
    await sim.runUntil(sim.now + 30_000);
    expect(sim.primaries()).toEqual([first]);
    expect(sim.recorder.intervals).toHaveLength(1);
    expect(sim.writerViolations).toEqual([]);
  }, 30_000);

  it("after the primary's host dies, a primary exists again within 2 x TTL + lock-delay + an election", async () => {
    for (const seed of [2, 3, 4]) {
      const sim = new LeaseSim({ seed });
      sim.boot();
      const first = (await sim.waitForPrimary(8000))!;
      await sim.runUntil(sim.now + 5000);
      const diedAt = sim.now;
      sim.host(first).crash();
      const next = await sim.waitForPrimary(FAILOVER_BOUND_MS + 5000, first);
      expect(next, `seed ${seed}`).not.toBeNull();
      expect(sim.now - diedAt, `seed ${seed}`).toBeLessThanOrEqual(FAILOVER_BOUND_MS);
      expect(describeOverlaps(sim)).toEqual([]);
      expect(sim.writerViolations).toEqual([]);
    }
  }, 60_000);

  it("a paused primary: LiteFS intervals may overlap only on the paused side; effective writers never do", async () => {
    const sim = new LeaseSim({ seed: 5 });
    sim.boot();
    const first = (await sim.waitForPrimary(8000))!;
    await sim.runUntil(sim.now + 3000);
    const h = sim.host(first);
    h.pause();
    const next = await sim.waitForPrimary(FAILOVER_BOUND_MS + 3000, first);
    expect(next).not.toBeNull();
    await sim.runUntil(sim.now + 2000);
    h.resume();
    await sim.runUntil(sim.now + 3000);
    expect(h.model.isPrimary).toBe(false);
    expect(sim.recorder.overlaps(sim.now).length).toBeGreaterThan(0); // the gap the write gate closes
    expect(describeOverlaps(sim)).toEqual([]);
    expect(sim.writerViolations).toEqual([]);
  }, 30_000);

  const fault = (hosts: number): fc.Arbitrary<ScheduledFault> =>
    fc.record({
      at: fc.integer({ min: 0, max: 40_000 }),
      fault: fc.oneof(
        fc.record({
          kind: fc.constant("crash" as const),
          host: fc.nat(hosts - 1),
          downMs: fc.integer({ min: 500, max: 12_000 }),
        }),
        fc.record({
          kind: fc.constant("pause" as const),
          host: fc.nat(hosts - 1),
          ms: fc.integer({ min: 200, max: 3 * SIM_TTL_MS }),
        }),
        fc.record({
          kind: fc.constant("isolate" as const),
          host: fc.nat(hosts - 1),
          ms: fc.integer({ min: 200, max: 10_000 }),
        }),
        fc.record({
          kind: fc.constant("stop" as const),
          host: fc.nat(hosts - 1),
          downMs: fc.integer({ min: 100, max: 5000 }),
        }),
        fc.record({ kind: fc.constant("handoff" as const), to: fc.nat(hosts - 1) }),
      ),
    });

  it("random fault schedules: no overlap of unpaused primaries, never two effective writers, a primary again after healing", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 2 ** 30 }),
        fc.array(fault(3), { minLength: 1, maxLength: 8 }),
        async (seed, schedule) => {
          const sim = new LeaseSim({ seed });
          sim.boot();
          await sim.runUntil(3000);
          await runLeaseSchedule(sim, schedule, 2000);
          const healedAt = sim.now;
          const p = await sim.waitForPrimary(FAILOVER_BOUND_MS + 2 * SIM_TTL_MS);
          expect(p, `no primary ${sim.now - healedAt} ms after healing`).not.toBeNull();
          expect(describeOverlaps(sim)).toEqual([]);
          expect(sim.writerViolations).toEqual([]);
        },
      ),
      {
        numRuns: Number(process.env["LEASE_SIM_RUNS"] ?? 6),
        seed: Number(process.env["LEASE_SIM_SEED"] ?? 20251122),
        endOnFailure: true,
      },
    );
  }, 120_000);
});

describe("lease simulator: mutation checks (a disabled rule must be caught)", () => {
  async function isolatedPrimary(
    seed: number,
    knobs: ConstructorParameters<typeof LeaseSim>[0]["knobs"],
  ): Promise<LeaseSim> {
    const sim = new LeaseSim({ seed, knobs });
    sim.boot();
    const first = (await sim.waitForPrimary(8000))!;
    await sim.runUntil(sim.now + 2500);
    sim.isolated.add(first);
    await sim.runUntil(sim.now + 12_000);
    return sim;
  }

  it("the safe rules survive the isolated-primary scenario", async () => {
    for (const seed of [11, 12]) {
      const sim = await isolatedPrimary(seed, undefined);
      expect(describeOverlaps(sim)).toEqual([]);
      expect(sim.writerViolations).toEqual([]);
    }
  }, 60_000);

  it("expiring sessions after 0.25 x TTL instead of 2 x TTL lets two LiteFS primaries overlap", async () => {
    let caught = 0;
    for (const seed of [11, 12, 13]) {
      const sim = await isolatedPrimary(seed, { ttlMultiplier: 0.25, lockDelay: false });
      if (describeOverlaps(sim).length > 0) caught++;
    }
    expect(caught).toBeGreaterThan(0);
  }, 60_000);
});
