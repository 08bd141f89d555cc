// The raft-mode ElectionView (plugs into openNode's `election` option): LiteFS saying "primary"
// is backed only when the lease service's published state agrees: this node's session holds the
// lease key, its deadline (last quorum-confirmed renew + TTL) has not passed, quorum contact is
// recent, and the service has not refused the lease. Otherwise it is split brain: the gate refuses
// writes with SplitBrainError and the node emits `split-brain` (and its metric).
//
// Cheap on the hot path: the node caches verdicts, and this view calls its listener only when the
// answer may have changed (a poll of the small state file, plus a timer at the next deadline).
// When asked about a primary view it re-reads the file at once, so a fresh promotion (the service
// publishes before answering LiteFS's acquire) is never judged against stale data.

import type { ElectionView, Contradiction } from "./election-view.js";
import type { LiteFSView } from "../litefs/view.js";
import { activeHandoffDrain } from "./handoff-drain.js";
import { leaseProblem, nextLeaseChangeNs, readLeaseState, type LeaseStateReading } from "../lease/published-state.js";

export interface RaftLeaseElectionOptions {
  /** leaseStatePath(settings.mountPath). */
  readonly statePath: string;
  /** Re-read the file this often while someone listens (ms). Default 100. */
  readonly pollMs?: number;
  /** Injected for tests; default process.hrtime.bigint. */
  readonly nowNs?: () => bigint;
  readonly read?: (path: string) => LeaseStateReading;
  /** The handoff drain file (handoff-drain.ts); default: next to statePath (handoffDrainPath of the same mount). */
  readonly drainPath?: string;
}

/** Raft-mode facts for metrics and health (src/health's RaftMetricsSource). */
export interface RaftSnapshot {
  readonly term: number;
  /** Current Raft leader's node id, null when none. */
  readonly leader: string | null;
  /** Leader changes this process has seen in the published state since it started watching. */
  readonly leaderChanges: number;
  /** The node holding the LiteFS lease (the primary the election names), null when none. */
  readonly leaseHolder: string | null;
}

export interface RaftLeaseElection extends ElectionView {
  /** For src/health's RaftMetricsSource: null until a state was read. */
  raftSnapshot(): RaftSnapshot | null;
  /** The last reading of the state file. */
  current(): LeaseStateReading;
  /** Why LiteFS being primary is not backed right now (null when it is). */
  problemNow(): string | null;
  close(): void;
}

export function raftLeaseElection(options: RaftLeaseElectionOptions): RaftLeaseElection {
  const nowNs = options.nowNs ?? (() => process.hrtime.bigint());
  const read = options.read ?? readLeaseState;
  const pollMs = options.pollMs ?? 100;
  const drainPath = options.drainPath ?? options.statePath.replace(/\.lease\.json$/, ".handoff.json");
  const draining = (): boolean => activeHandoffDrain(drainPath, nowNs()) !== null;
  let lastDraining = draining();
  const listeners = new Set<() => void>();
  let reading = read(options.statePath);
  let lastProblem: string | null = leaseProblem(reading, nowNs());
  let poller: NodeJS.Timeout | null = null;
  let deadlineTimer: NodeJS.Timeout | null = null;
  let lastLeader: string | null | undefined;
  let leaderChanges = 0;
  const noteLeader = (): void => {
    if (!reading.ok) return;
    const leader = reading.state.raft.leader;
    if (lastLeader !== undefined && leader !== null && leader !== lastLeader) leaderChanges++;
    if (leader !== null) lastLeader = leader;
  };
  noteLeader();

  const armDeadline = (): void => {
    if (deadlineTimer) clearTimeout(deadlineTimer);
    deadlineTimer = null;
    const next = nextLeaseChangeNs(reading);
    if (next === null || listeners.size === 0) return;
    const ms = Math.max(0, Number(next - nowNs()) / 1e6) + 1;
    deadlineTimer = setTimeout(check, Math.min(ms, 2 ** 31 - 1));
    deadlineTimer.unref();
  };

  function check(): void {
    reading = read(options.statePath);
    noteLeader();
    const problem = leaseProblem(reading, nowNs());
    const drainingNow = draining();
    const changed = (problem === null) !== (lastProblem === null) || drainingNow !== lastDraining;
    lastProblem = problem;
    lastDraining = drainingNow;
    armDeadline();
    if (changed) for (const l of [...listeners]) l();
  }

  const stop = (): void => {
    if (poller) clearInterval(poller);
    if (deadlineTimer) clearTimeout(deadlineTimer);
    poller = null;
    deadlineTimer = null;
  };

  return {
    kind: "raft",
    contradiction(view: LiteFSView): Contradiction | null {
      if (view.kind !== "primary") return null;
      reading = read(options.statePath);
      const problem = leaseProblem(reading, nowNs());
      lastProblem = problem;
      armDeadline();
      if (problem === null) return null;
      const named = reading.ok ? reading.state.primary : null;
      const self = reading.ok ? reading.state.node : null;
      return {
        reason: `LiteFS says this node is primary but ${problem}`,
        primary: named !== null && named !== self ? named : null,
      };
    },
    // A planned handoff drains the writers first (handoff-drain.ts): a primary view that is
    // backed is still not writable while the drain file is in force.
    primaryRefusal() {
      const drain = activeHandoffDrain(drainPath, nowNs());
      lastDraining = drain !== null;
      if (drain === null) return null;
      return {
        reason: "handoff" as const,
        primary: drain.target,
        detail: `handoff in progress (pid ${drain.pid})${drain.target ? ` to "${drain.target}"` : ""}`,
      };
    },
    // Called right after this primary view was judged writable: the verdict holds until the
    // deadline or the quorum-contact grace runs out, and at most one poll interval, so that even a
    // synchronous write loop that never yields to the poll timer sees a handoff drain in time.
    writableUntilMs(): number {
      const next = nextLeaseChangeNs(reading);
      const untilLease = next === null ? Infinity : Number(next - nowNs()) / 1e6;
      return performance.now() + Math.min(untilLease, pollMs);
    },
    subscribe(listener: () => void): () => void {
      listeners.add(listener);
      if (!poller) {
        poller = setInterval(check, pollMs);
        poller.unref();
      }
      armDeadline();
      return () => {
        listeners.delete(listener);
        if (listeners.size === 0) stop();
      };
    },
    current: () => reading,
    raftSnapshot: () =>
      reading.ok
        ? {
            term: reading.state.raft.term,
            leader: reading.state.raft.leader,
            leaderChanges,
            leaseHolder: reading.state.primary,
          }
        : null,
    problemNow: () => leaseProblem(read(options.statePath), nowNs()),
    close() {
      listeners.clear();
      stop();
    },
  };
}
