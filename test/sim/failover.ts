// Crash schedules for fast failover (docs/fast-failover.md), one per seed, replayable: the lease
// simulator with the production lease settings (TTL 5 s, lock-delay 500 ms), a warm-up of 1-5 s,
// then one fault: SIGKILL of the lease holder's host, SIGKILL of the Raft leader's host (often the
// same host: both at once), isolation of the holder's host from the network, or isolation of a
// holder that leads Raft after its link to one member was cut for a while (so that member, which
// may win the next election, last heard from it long before the fault: the takeover bound from
// the other voter is what keeps the count honest, src/raft/contact.ts). Measured: the
// time from the fault until library writes are admitted again on a live, connected host.
// Checked: never two hosts with library writes admitted, and no session ended for silence while
// its holder's writers could still write.

import type { LeaseKnobs } from "../../src/lease/types.js";
import type { ContactKnobs } from "../../src/raft/contact.js";
import { LeaseSim } from "./lease-sim.js";
import { createRng } from "./prng.js";

const FAILOVER_TTL_MS = 5000;
const FAILOVER_LOCK_DELAY_MS = 500;
/** The bound: writes through the library again within 5 s. */
export const FAILOVER_BOUND_MS = 5000;

type CrashTarget = "holder" | "leader" | "isolate-holder" | "cut-then-isolate";

/** Switches for mutation checks (the lease service's and each host's RaftContact's), and the cluster size. */
export interface FailoverKnobs {
  readonly lease?: Partial<LeaseKnobs>;
  readonly contact?: ContactKnobs;
  /** Raft members (default 3). */
  readonly hosts?: number;
}

export interface CrashOutcome extends MeasuredRun {
  readonly target: CrashTarget;
  /** The holder's host was also the Raft leader's (one fault hit both). */
  readonly holderWasLeader: boolean;
  /** Fault -> library writes admitted again somewhere else reachable; null: not within the watch. */
  readonly failoverMs: number | null;
  /** Problems found (two writers, a release while the holder could write, no writer at start). */
  readonly violations: readonly string[];
  /** LiteFS-level primary overlaps (a writer bypassing the library could use them). */
  readonly litefsOverlaps: number;
}

const WATCH_MS = 12_000;

/** The first host (not in `exclude`) whose library writes are admitted within `limitMs`, polled every 5 ms. */
export async function firstWriter(
  sim: LeaseSim,
  limitMs: number,
  exclude: string | readonly string[] | null,
): Promise<string | null> {
  const excluded = exclude === null ? [] : typeof exclude === "string" ? [exclude] : exclude;
  const end = sim.now + limitMs;
  while (sim.now < end) {
    const w = sim.writers().find((id) => !excluded.includes(id));
    if (w) return w;
    await sim.runUntil(sim.now + 5);
  }
  return null;
}

export async function handOff(sim: LeaseSim, from: string, to: string): Promise<boolean> {
  const sid = sim.host(from).model.handOff();
  if (sid) sim.host(to).model.takeOver(sid);
  return (await firstWriter(sim, 5000, from)) !== null;
}

/** A booted lease simulator with the production lease settings (TTL 5 s, lock-delay 500 ms). */
export function failoverSim(seed: number, knobs: FailoverKnobs = {}): LeaseSim {
  const sim = new LeaseSim({
    seed,
    ...(knobs.lease ? { knobs: knobs.lease } : {}),
    ...(knobs.contact ? { contactKnobs: knobs.contact } : {}),
    ...(knobs.hosts ? { hosts: knobs.hosts } : {}),
    ttlMs: FAILOVER_TTL_MS,
    lockDelayMs: FAILOVER_LOCK_DELAY_MS,
  });
  sim.boot();
  return sim;
}

async function runCrashSchedule(seed: number, knobs: FailoverKnobs = {}): Promise<CrashOutcome> {
  const rng = createRng(seed ^ 0x5eed);
  const target = rng.pick<CrashTarget>(["holder", "leader", "isolate-holder", "cut-then-isolate"]);
  const sim = failoverSim(seed, knobs);
  const violations: string[] = [];
  const holder = await firstWriter(sim, 15_000, null);
  if (holder === null)
    return { seed, target, holderWasLeader: false, failoverMs: null, violations: ["no writer"], litefsOverlaps: 0 };
  // Half the runs move the lease off the Raft leader's host first (a LiteFS handoff), so the
  // holder's and the leader's hosts differ; otherwise they are usually the same host.
  // The cut-link schedule wants the holder to lead Raft, so the lease moves to the leader's host.
  const leaderAtStart = sim.leader();
  if (target !== "cut-then-isolate" && rng.chance(0.5) && leaderAtStart === holder) {
    if (!(await handOff(sim, holder, rng.pick(sim.ids.filter((id) => id !== holder)))))
      violations.push("handoff: no writer");
  } else if (target === "cut-then-isolate" && leaderAtStart !== null && leaderAtStart !== holder) {
    if (!(await handOff(sim, holder, leaderAtStart))) violations.push("handoff: no writer");
  }
  await sim.runUntil(sim.now + rng.int(1000, 5000));
  if (target === "cut-then-isolate") {
    // One member stops hearing the holder (it still hears the third, which still hears both).
    const writer = sim.writers()[0] ?? holder;
    const cutFrom = rng.pick(sim.ids.filter((id) => id !== writer));
    sim.setLink(writer, cutFrom, false);
    await sim.runUntil(sim.now + rng.int(300, 2000));
    sim.setLink(writer, cutFrom, true);
  }
  const writerNow = sim.writers()[0] ?? holder;
  const leader = sim.leader();
  const victim = target === "leader" ? (leader ?? writerNow) : writerNow;
  const faultAt = sim.now;
  if (target === "isolate-holder" || target === "cut-then-isolate") sim.isolated.add(victim);
  else sim.host(victim).crash();
  // Writes must resume on a host that is alive and connected: the victim unless it was only the
  // Raft leader's host (then the holder may simply keep writing).
  const resumed = await firstWriter(sim, WATCH_MS, victim === writerNow ? victim : null);
  const failoverMs = resumed === null ? null : sim.now - faultAt;
  await sim.runUntil(sim.now + 2000);
  violations.push(...sim.writerViolations, ...sim.releaseViolations);
  return {
    seed,
    target,
    holderWasLeader: leader === writerNow,
    failoverMs,
    violations,
    litefsOverlaps: sim.overlaps().length,
  };
}

/** What every failover run reports, whatever its schedule. */
export interface MeasuredRun {
  readonly seed: number;
  /** Fault -> library writes admitted again on a live, reachable host; null: not within the watch. */
  readonly failoverMs: number | null;
  readonly violations: readonly string[];
  readonly litefsOverlaps: number;
}

export interface RunSummary<O extends MeasuredRun> {
  readonly runs: number;
  readonly byCase: Record<string, { runs: number; maxMs: number; meanMs: number; over: number }>;
  readonly worst: O | null;
  /** Runs over FAILOVER_BOUND_MS (or without a writer) among those the bound applies to. */
  readonly overBound: O[];
  readonly violating: O[];
  readonly litefsOverlapRuns: number;
}

export type CrashSummary = RunSummary<CrashOutcome>;

/** The case an outcome belongs to, for the per-case numbers. */
export function crashCase(o: CrashOutcome): string {
  if (o.target === "isolate-holder") return "partition of the holder";
  if (o.target === "cut-then-isolate") return "partition of the holder after a cut link";
  if (o.holderWasLeader) return "holder = Raft leader killed (both at once)";
  return o.target === "holder" ? "holder killed (leader elsewhere)" : "Raft leader killed (holder elsewhere)";
}

export async function runCrashSchedules(
  start: number,
  count: number,
  knobs?: FailoverKnobs,
): Promise<{ outcomes: CrashOutcome[]; summary: CrashSummary }> {
  const outcomes: CrashOutcome[] = [];
  for (let seed = start; seed < start + count; seed++) outcomes.push(await runCrashSchedule(seed, knobs));
  return { outcomes, summary: summarize(outcomes, crashCase) };
}

/** Per-case failover times, and the runs over the bound (where `bounded`) or with a violation. */
export function summarize<O extends MeasuredRun>(
  outcomes: readonly O[],
  caseOf: (o: O) => string,
  bounded: (o: O) => boolean = () => true,
): RunSummary<O> {
  const byCase: Record<string, { runs: number; maxMs: number; meanMs: number; over: number }> = {};
  let worst: O | null = null;
  for (const o of outcomes) {
    const ms = o.failoverMs ?? Infinity;
    const c = (byCase[caseOf(o)] ??= { runs: 0, maxMs: 0, meanMs: 0, over: 0 });
    c.meanMs = (c.meanMs * c.runs + ms) / (c.runs + 1);
    c.runs++;
    c.maxMs = Math.max(c.maxMs, ms);
    if (ms > FAILOVER_BOUND_MS) c.over++;
    if (worst === null || ms > (worst.failoverMs ?? Infinity)) worst = o;
  }
  return {
    runs: outcomes.length,
    byCase,
    worst,
    overBound: outcomes.filter((o) => bounded(o) && (o.failoverMs === null || o.failoverMs > FAILOVER_BOUND_MS)),
    violating: outcomes.filter((o) => o.violations.length > 0),
    litefsOverlapRuns: outcomes.filter((o) => o.litefsOverlaps > 0).length,
  };
}
