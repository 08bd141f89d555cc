// Adversarial fault schedules for fast failover (docs/fast-failover.md), beyond the single faults
// of failover.ts: a second fault during the takeover, a restart of the killed holder, pauses
// shorter than the margins, one-way and step-by-step partitions, message delay spikes, a handoff
// in progress when a fault hits, and a handoff racing the silence release. Same simulator, same
// production lease settings, same invariants (never two hosts with library writes admitted; no
// session ended for silence while its holder's writers could write), one seed per run.
// Run: `npm run test:failover -- --schedule NAME --seeds N [--start S] [--hosts H] [mutation]`.

import { failoverSim, firstWriter, handOff, summarize, type FailoverKnobs, type MeasuredRun } from "./failover.js";
import type { LeaseSim } from "./lease-sim.js";
import { createRng, type Rng } from "./prng.js";

export const PROBE_SCHEDULES = [
  "second-fault",
  "restart",
  "pause",
  "one-way",
  "cut-steps",
  "delay-spike",
  "handoff-fault",
  "handoff-race",
  "silence-return",
] as const;
export type ProbeSchedule = (typeof PROBE_SCHEDULES)[number];

export interface ProbeOutcome extends MeasuredRun {
  readonly schedule: ProbeSchedule;
  /** The variant this seed drew (the per-case numbers group by it). */
  readonly case: string;
  /** Whether the 5 s bound is promised for this case (the single faults the design covers). */
  readonly bounded: boolean;
  /** The longest LiteFS-level primary overlap (what a writer bypassing the library could use), ms. */
  readonly litefsOverlapMs: number;
  /** Faults, lease service events and LiteFS primary intervals in time order (printed on replay). */
  readonly timeline: readonly string[];
}

/** The run's faults, service events and primary intervals, one line each, in time order. */
function timeline(sim: LeaseSim): string[] {
  const lines: [number, string][] = sim.log.map(({ at, host, type, ...rest }) => [
    Number(at),
    `${String(host)} ${String(type)} ${JSON.stringify(rest)}`,
  ]);
  for (const i of sim.recorder.intervals)
    lines.push([
      i.start,
      `${i.node} LiteFS primary (session ${i.session}) until ${i.end ?? "the end"} (${i.endReason ?? "-"})`,
    ]);
  const v = sim.writerViolations;
  if (v.length > 0) lines.push([sim.now, `two writers: ${v.length} checks, first "${v[0]!}", last "${v.at(-1)!}"`]);
  return lines.sort((x, y) => x[0] - y[0]).map(([at, line]) => `${at} ms: ${line}`);
}

/** How long writes are watched for after the (last) fault. */
const WATCH_MS = 14_000;

interface Measured {
  readonly case: string;
  readonly failoverMs: number | null;
  readonly bounded: boolean;
}

type Probe = (sim: LeaseSim, rng: Rng, holder: string) => Promise<Measured>;

/** Records a fault in the run's log (the timeline a replay prints). */
function fault(sim: LeaseSim, what: string): void {
  sim.log.push({ at: sim.now, host: "nemesis", type: "fault", what });
}

/** The host ids other than `ids`. */
function others(sim: LeaseSim, ...ids: (string | null)[]): string[] {
  return sim.ids.filter((id) => !ids.includes(id));
}

/** Fault -> writes admitted on a host outside `exclude` (null when none within the watch). */
async function resumeAfter(sim: LeaseSim, faultAt: number, exclude: readonly string[]): Promise<number | null> {
  const w = await firstWriter(sim, WATCH_MS - (sim.now - faultAt), exclude);
  return w === null ? null : sim.now - faultAt;
}

/**
 * Steps the simulation 1 ms at a time until `condition` holds after a step (true: the moment it
 * did, for a nemesis to act on) or the simulated clock reaches `until` (false).
 */
async function nextMsWhen(sim: LeaseSim, until: number, condition: () => boolean): Promise<boolean> {
  while (sim.now < until) {
    await sim.runUntil(sim.now + 1);
    if (condition()) return true;
  }
  return false;
}

/** The longest stretch without any library writer over `ms`, polled every 5 ms. */
async function longestWriteGap(sim: LeaseSim, ms: number): Promise<number> {
  const end = sim.now + ms;
  let lastWrite = sim.now;
  let longest = 0;
  while (sim.now < end) {
    await sim.runUntil(sim.now + 5);
    if (sim.writers().length > 0) lastWrite = sim.now;
    longest = Math.max(longest, sim.now - lastWrite);
  }
  return longest;
}

/** Moves the lease off the Raft leader's host (so holder and leader differ); returns the holder. */
async function holderOffLeader(sim: LeaseSim, rng: Rng, holder: string): Promise<string> {
  const leader = sim.leader();
  if (leader !== holder) return holder;
  const to = rng.pick(others(sim, holder));
  await handOff(sim, holder, to);
  return sim.writers()[0] ?? holder;
}

/**
 * 5 members (or more): SIGKILL of the holder, then 0-3 s later a second fault: SIGKILL of the Raft
 * leader then in office (the one counting the silence; when the holder led, the new one), SIGKILL
 * of the new holder right after its first write, or isolation of the Raft leader. Measured from
 * the second fault (the design's single-fault reasoning restarts there); not bounded.
 */
const secondFault: Probe = async (sim, rng, first) => {
  const holder = rng.chance(0.5) ? await holderOffLeader(sim, rng, first) : first;
  const wasLeader = sim.leader() === holder;
  await sim.runUntil(sim.now + rng.int(500, 3000));
  const kind = rng.pick(["kill-leader", "kill-new-holder", "isolate-leader"] as const);
  const victim = sim.writers()[0] ?? holder;
  sim.host(victim).crash();
  fault(sim, `SIGKILL ${victim} (holder${wasLeader ? " and Raft leader" : ""})`);
  const dead = [victim];
  let secondAt: number;
  let label: string;
  if (kind === "kill-new-holder") {
    const next = await firstWriter(sim, WATCH_MS, dead);
    if (next === null) return { case: "new holder killed: no first failover", failoverMs: null, bounded: false };
    await sim.runUntil(sim.now + rng.int(0, 500));
    sim.host(next).crash();
    fault(sim, `SIGKILL ${next} (the new holder)`);
    dead.push(next);
    secondAt = sim.now;
    label = "holder killed, then the new holder killed";
  } else {
    await sim.runUntil(sim.now + rng.int(0, 3000));
    // The leader in office now: the one counting the holder's silence (or electing one).
    const leader = sim.leader();
    secondAt = sim.now;
    if (leader === null) return { case: "second fault: no leader in office", failoverMs: null, bounded: false };
    if (kind === "kill-leader") {
      sim.host(leader).crash();
      dead.push(leader);
    } else sim.isolated.add(leader);
    fault(sim, `${kind === "kill-leader" ? "SIGKILL" : "isolate"} ${leader} (Raft leader)`);
    label = `${wasLeader ? "holder+leader" : "holder"} killed, then the ${kind === "kill-leader" ? "leader killed" : "leader isolated"}`;
    if (sim.writers().some((w) => !dead.includes(w) && !sim.isolated.has(w)))
      return { case: `${label} (after the failover)`, failoverMs: 0, bounded: false };
  }
  const failoverMs = await resumeAfter(sim, secondAt, [...dead, ...sim.isolated]);
  return { case: label, failoverMs, bounded: false };
};

/**
 * SIGKILL of the holder's host, restarted (from its durable Raft state) 0.2-4 s later. The
 * restarted member is heard from again, so its old session no longer counts as silent.
 */
const restart: Probe = async (sim, rng, first) => {
  const holder = rng.chance(0.5) ? await holderOffLeader(sim, rng, first) : first;
  await sim.runUntil(sim.now + rng.int(500, 3000));
  const victim = sim.writers()[0] ?? holder;
  const downMs = rng.int(200, 4000);
  sim.host(victim).crash();
  fault(sim, `SIGKILL ${victim} (holder), restart in ${downMs} ms`);
  const faultAt = sim.now;
  let released = false;
  sim.schedule(downMs, () => {
    // Whether the leader had already ended the session for the holder's silence.
    released = sim.log.some(
      (e) => e["type"] === "member-silent" && e["member"] === victim && Number(e["at"]) > faultAt,
    );
    sim.host(victim).boot();
    fault(sim, `restart ${victim}`);
  });
  const failoverMs = await resumeAfter(sim, faultAt, []);
  if (sim.now < faultAt + downMs) released = true;
  return {
    case: released ? "holder restarted after the silence release" : "holder restarted before the silence release",
    failoverMs,
    bounded: released,
  };
};

/**
 * SIGSTOP of the holder's host, of the Raft leader's host (holder elsewhere), or of one host that
 * is both, for 0.1-2.4 s (shorter than G + M: no silence release is due). Measured: the longest
 * stretch without any library writer from the pause on.
 */
const pause: Probe = async (sim, rng, first) => {
  const which = rng.pick(["holder", "leader"] as const);
  const holder = which === "leader" || rng.chance(0.5) ? await holderOffLeader(sim, rng, first) : first;
  await sim.runUntil(sim.now + rng.int(500, 3000));
  const writer = sim.writers()[0] ?? holder;
  const leader = sim.leader();
  const victim = which === "leader" && leader !== null ? leader : writer;
  const ms = rng.int(100, 2400);
  sim.host(victim).pause();
  fault(sim, `SIGSTOP ${victim} for ${ms} ms (holder ${writer}, Raft leader ${leader})`);
  sim.schedule(ms, () => {
    if (sim.host(victim).paused) sim.host(victim).resume();
  });
  const gap = await longestWriteGap(sim, ms + 6000);
  const label =
    victim === writer && victim === leader
      ? "holder+leader paused"
      : victim === writer
        ? "holder paused"
        : "leader paused";
  // The leader's pause is like its death for the holder (its contact stalls for less than G);
  // a holder paused for longer than G comes back with its gate closed and its next renew refused.
  return { case: label, failoverMs: gap, bounded: label === "leader paused" };
};

/**
 * A one-way partition of the holder: it hears nobody ("deaf": it still sends, e.g. PreVote
 * requests) or nobody hears it ("mute": it still receives heartbeats). Lasts the whole watch.
 */
const oneWay: Probe = async (sim, rng, first) => {
  const holder = rng.chance(0.5) ? await holderOffLeader(sim, rng, first) : first;
  await sim.runUntil(sim.now + rng.int(500, 3000));
  const victim = sim.writers()[0] ?? holder;
  const deaf = rng.chance(0.5);
  for (const id of others(sim, victim)) {
    if (deaf) sim.setOneWay(id, victim, false);
    else sim.setOneWay(victim, id, false);
  }
  fault(sim, `${victim} (holder) ${deaf ? "hears no one" : "is heard by no one"}`);
  const faultAt = sim.now;
  const failoverMs = await resumeAfter(sim, faultAt, [victim]);
  for (const id of others(sim, victim)) {
    sim.setOneWay(id, victim, true);
    sim.setOneWay(victim, id, true);
  }
  return {
    case: deaf ? "holder deaf (hears no one, is heard)" : "holder mute (is not heard, hears all)",
    failoverMs,
    bounded: !deaf,
  };
};

/**
 * Partial partitions: the holder's links are cut one at a time, 0.1-1.5 s apart, in random order,
 * until it is isolated (the last cut is the fault measured; the earlier ones may have moved Raft
 * leadership around). With 3 members also: one link between the two others is cut first.
 */
const cutSteps: Probe = async (sim, rng, first) => {
  const holder = rng.chance(0.5) ? await holderOffLeader(sim, rng, first) : first;
  await sim.runUntil(sim.now + rng.int(500, 3000));
  const victim = sim.writers()[0] ?? holder;
  const rest = others(sim, victim);
  const otherCut = rng.chance(0.3) && rest.length >= 2;
  if (otherCut) {
    sim.setLink(rest[0]!, rest[1]!, false);
    fault(sim, `cut ${rest[0]!}-${rest[1]!}`);
  }
  const order = [...rest].sort(() => rng.next() - 0.5);
  for (const [i, id] of order.entries()) {
    if (i > 0) await sim.runUntil(sim.now + rng.int(100, 1500));
    sim.setLink(victim, id, false);
    fault(sim, `cut ${victim}-${id}`);
  }
  if (otherCut) sim.setLink(rest[0]!, rest[1]!, true);
  const isolatedAt = sim.now;
  const stillWriting = sim.writers().filter((w) => w !== victim);
  const failoverMs = stillWriting.length > 0 ? 0 : await resumeAfter(sim, isolatedAt, [victim]);
  for (const id of rest) sim.setLink(victim, id, true);
  return {
    case: `holder's links cut one by one${otherCut ? " (after a cut between the others)" : ""}`,
    failoverMs,
    bounded: true,
  };
};

/**
 * A message delay spike: every message (Raft and forwarding) to or from the holder's host, or all
 * messages, take 50 ms to 1.5 s more for 0.5-4 s. Measured: the longest stretch without a writer.
 */
const delaySpike: Probe = async (sim, rng, first) => {
  const holder = rng.chance(0.5) ? await holderOffLeader(sim, rng, first) : first;
  await sim.runUntil(sim.now + rng.int(500, 3000));
  const victim = sim.writers()[0] ?? holder;
  const onlyHolder = rng.chance(0.5);
  const maxMs = rng.pick([300, 800, 1500]);
  const lastsMs = rng.int(500, 4000);
  sim.delaySpike = { minMs: 50, maxMs, hosts: onlyHolder ? new Set([victim]) : null };
  fault(sim, `delays of 50-${maxMs} ms ${onlyHolder ? `on ${victim}'s links` : "on all links"} for ${lastsMs} ms`);
  sim.schedule(lastsMs, () => (sim.delaySpike = null));
  const gap = await longestWriteGap(sim, lastsMs + 8000);
  return {
    case: `delays up to ${maxMs} ms ${onlyHolder ? "on the holder's links" : "on all links"}`,
    failoverMs: gap,
    bounded: false,
  };
};

/**
 * A handoff in progress when a fault hits: the holder hands the lease to another member and
 * 0-300 ms later the old holder, the target or the Raft leader is killed, or the target isolated.
 */
const handoffFault: Probe = async (sim, rng, first) => {
  await sim.runUntil(sim.now + rng.int(500, 3000));
  const from = sim.writers()[0] ?? first;
  const to = rng.pick(others(sim, from));
  const kind = rng.pick(["kill-old", "kill-target", "kill-leader", "isolate-target"] as const);
  const sid = sim.host(from).model.handOff();
  if (sid) sim.host(to).model.takeOver(sid);
  fault(sim, `handoff ${from} -> ${to} (session ${sid})`);
  await sim.runUntil(sim.now + rng.int(0, 300));
  const leader = sim.leader();
  const victim = kind === "kill-old" ? from : kind === "kill-leader" ? (leader ?? from) : to;
  if (kind === "isolate-target") sim.isolated.add(victim);
  else sim.host(victim).crash();
  fault(sim, `${kind === "isolate-target" ? "isolate" : "SIGKILL"} ${victim}`);
  const faultAt = sim.now;
  const failoverMs = await resumeAfter(sim, faultAt, [victim]);
  const label = { "kill-old": "old holder", "kill-target": "target", "kill-leader": "Raft leader" }[
    kind === "isolate-target" ? "kill-target" : kind
  ];
  return {
    case: `handoff, then the ${label}${kind === "isolate-target" ? " isolated" : " killed"}${victim === leader && kind !== "kill-leader" ? " (was the leader)" : ""}`,
    failoverMs,
    bounded: false,
  };
};

/**
 * A handoff racing the silence release. The holder A (not the Raft leader L) is cut off from L
 * only (it still reaches the third member B, over which the handoff travels); 1.5-2.6 s later,
 * while A's LiteFS is still primary, A hands the lease to B. B renews the session and acquires
 * the key with it, which moves the session's holder to B; if L's silence check still saw A as
 * the holder (A silent past G + M) between B's acquire being proposed and applied, L ends the
 * session just after B acquired it. The nemesis then isolates B the moment its gate opens and
 * heals A-L, so L and A (a majority) go on without B while B's gate stays open on B's last contact.
 */
const handoffRace: Probe = async (sim, rng, first) => {
  const a = await holderOffLeader(sim, rng, first);
  const leader = sim.leader();
  if (leader === null || leader === a)
    return { case: "no setup (holder leads Raft)", failoverMs: null, bounded: false };
  const b = others(sim, a, leader)[0]!;
  await sim.runUntil(sim.now + rng.int(500, 2000));
  sim.setLink(a, leader, false);
  fault(sim, `cut ${a}-${leader} (holder A = ${a}, Raft leader L = ${leader}, B = ${b})`);
  await sim.runUntil(sim.now + rng.int(1500, 2600));
  const sid = sim.host(a).model.handOff();
  if (sid === null) {
    sim.setLink(a, leader, true);
    return { case: "no setup (A's LiteFS already demoted)", failoverMs: null, bounded: false };
  }
  sim.host(b).model.takeOver(sid);
  fault(sim, `handoff ${a} -> ${b} (session ${sid})`);
  const handoffAt = sim.now;
  const silentEnd = (): boolean => sim.log.some((e) => e["type"] === "member-silent" && e["session"] === sid);
  const hit = await nextMsWhen(sim, handoffAt + 3000, () => silentEnd() && sim.writers().includes(b));
  if (hit) {
    sim.isolated.add(b);
    sim.setLink(a, leader, true);
    fault(sim, `isolate ${b} (its gate just opened), heal ${a}-${leader}`);
  } else sim.setLink(a, leader, true);
  const isolatedAt = sim.now;
  const failoverMs = await resumeAfter(sim, handoffAt, hit ? [b] : []);
  // B stays cut off for longer than its grace: its gate closes on its own, not by a heal.
  if (hit) await sim.runUntil(Math.max(sim.now, isolatedAt + 2500));
  const released = silentEnd();
  return {
    case: hit
      ? "race hit: B acquired, then its session ended for A's silence"
      : released
        ? "session ended for A's silence before B could write"
        : "handoff completed before the silence release",
    failoverMs,
    bounded: false,
  };
};

/**
 * The silent holder comes back just as the leader ends its session. The holder A (not the Raft
 * leader L) goes silent: cut off from L, or paused (SIGSTOP of everything on it). The moment L
 * judges A silent and proposes the end, L is cut from the third member C (so only A can help
 * commit it) and A comes back (A-L heals, or A resumes): A's next gate probe (a read) reaches L.
 * The moment A's gate opens again on its old session, A is isolated and L-C heals: the end
 * commits, C can take over after lock-delay, while A's gate would stay open on its fresh contact.
 * Two rules keep it shut: a cut-off A's own service stops trusting the session once its contact
 * gap passed the grace (it refuses the next renew, and the gate reads that), and the end fences
 * reads, so a resumed A (whose service saw no gap: it was paused) completes its read only after
 * applying the end.
 */
const silenceReturn: Probe = async (sim, rng, first) => {
  const a = await holderOffLeader(sim, rng, first);
  const leader = sim.leader();
  if (leader === null || leader === a)
    return { case: "no setup (holder leads Raft)", failoverMs: null, bounded: false };
  const c = others(sim, a, leader)[0]!;
  const how = rng.pick(["cut", "pause"] as const);
  await sim.runUntil(sim.now + rng.int(500, 2000));
  if (how === "cut") sim.setLink(a, leader, false);
  else sim.host(a).pause();
  fault(
    sim,
    `${how === "cut" ? `cut ${a}-${leader}` : `pause ${a}`} (holder A = ${a}, Raft leader L = ${leader}, C = ${c})`,
  );
  const silentAt = sim.now;
  const judged = (): boolean => sim.log.some((e) => e["type"] === "member-silent" && e["member"] === a);
  while (!judged() && sim.now < silentAt + 6000) await sim.runUntil(sim.now + 1);
  const back = (): void => (how === "cut" ? sim.setLink(a, leader, true) : sim.host(a).resume());
  const sid = sim.host(a).model.sessionId;
  if (!judged() || sid === null || !sim.host(a).model.isPrimary) {
    // A's LiteFS already demoted (a renew refused after the grace, or its own deadline): no race.
    back();
    return { case: `${how}: no setup (A's LiteFS no longer primary when judged)`, failoverMs: null, bounded: false };
  }
  sim.setLink(leader, c, false);
  back();
  fault(
    sim,
    `cut ${leader}-${c}, A back (${how === "cut" ? `heal ${a}-${leader}` : `resume ${a}`}): L just proposed the end`,
  );
  const judgedAt = sim.now;
  const reopened = await nextMsWhen(
    sim,
    judgedAt + 1500,
    () => sim.writers().includes(a) && sim.host(a).model.sessionId === sid,
  );
  sim.isolated.add(a);
  sim.setLink(leader, c, true);
  fault(sim, `isolate ${a}${reopened ? " (its gate just reopened)" : ""}, heal ${leader}-${c}`);
  const isolatedAt = sim.now;
  const failoverMs = await resumeAfter(sim, judgedAt, [a]);
  // A stays cut off for longer than its grace: its gate closes on its own, not by a heal.
  await sim.runUntil(Math.max(sim.now, isolatedAt + 2500));
  return {
    case: `${how}: ${reopened ? "A's gate reopened on its old session" : "A's gate stayed shut"}`,
    failoverMs,
    bounded: false,
  };
};

const PROBES: Record<ProbeSchedule, Probe> = {
  "second-fault": secondFault,
  restart,
  pause,
  "one-way": oneWay,
  "cut-steps": cutSteps,
  "delay-spike": delaySpike,
  "handoff-fault": handoffFault,
  "handoff-race": handoffRace,
  "silence-return": silenceReturn,
};

async function runProbe(schedule: ProbeSchedule, seed: number, knobs: FailoverKnobs): Promise<ProbeOutcome> {
  const rng = createRng(seed ^ 0x9e0b);
  const sim = failoverSim(seed, knobs);
  const holder = await firstWriter(sim, 15_000, null);
  if (holder === null)
    return {
      seed,
      schedule,
      case: "no writer",
      bounded: false,
      failoverMs: null,
      violations: ["no writer"],
      litefsOverlaps: 0,
      litefsOverlapMs: 0,
      timeline: timeline(sim),
    };
  const measured = await PROBES[schedule](sim, rng, holder);
  // Heal, and watch a while longer: a late second writer is still a violation.
  sim.isolated.clear();
  sim.delaySpike = null;
  await sim.runUntil(sim.now + 3000);
  return {
    seed,
    schedule,
    ...measured,
    violations: [...sim.writerViolations, ...sim.releaseViolations],
    litefsOverlaps: sim.overlaps().length,
    litefsOverlapMs: Math.max(
      0,
      ...sim.overlaps().map(([x, y]) => Math.min(x.end ?? sim.now, y.end ?? sim.now) - Math.max(x.start, y.start)),
    ),
    timeline: timeline(sim),
  };
}

export async function runProbeSchedules(
  schedule: ProbeSchedule,
  start: number,
  count: number,
  knobs: FailoverKnobs = {},
) {
  const outcomes: ProbeOutcome[] = [];
  for (let seed = start; seed < start + count; seed++) outcomes.push(await runProbe(schedule, seed, knobs));
  return {
    outcomes,
    summary: summarize(
      outcomes,
      (o) => o.case,
      (o) => o.bounded,
    ),
  };
}
