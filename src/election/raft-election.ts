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

import type { ElectionView, Contradiction, PrimaryRefusal } from "./election-view.js";
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
  return new RaftLeaseElectionView(options);
}

// A class rather than a closure so each job (reading the file, counting leader changes, timers,
// the ElectionView questions) is its own short method over one set of fields.
class RaftLeaseElectionView implements RaftLeaseElection {
  readonly kind = "raft" as const;
  private readonly statePath: string;
  private readonly nowNs: () => bigint;
  private readonly read: (path: string) => LeaseStateReading;
  private readonly pollMs: number;
  private readonly drainPath: string;
  private readonly listeners = new Set<() => void>();
  private reading: LeaseStateReading;
  private lastProblem: string | null;
  private lastDraining: boolean;
  private poller: NodeJS.Timeout | null = null;
  private deadlineTimer: NodeJS.Timeout | null = null;
  private lastLeader: string | null | undefined;
  private leaderChanges = 0;

  constructor(options: RaftLeaseElectionOptions) {
    this.statePath = options.statePath;
    this.nowNs = options.nowNs ?? (() => process.hrtime.bigint());
    this.read = options.read ?? readLeaseState;
    this.pollMs = options.pollMs ?? 100;
    this.drainPath = options.drainPath ?? options.statePath.replace(/\.lease\.json$/, ".handoff.json");
    this.lastDraining = this.draining();
    this.reading = this.read(this.statePath);
    this.lastProblem = leaseProblem(this.reading, this.nowNs());
    this.noteLeader();
  }

  contradiction(view: LiteFSView): Contradiction | null {
    if (view.kind !== "primary") return null;
    this.reading = this.read(this.statePath);
    const problem = leaseProblem(this.reading, this.nowNs());
    this.lastProblem = problem;
    this.armDeadline();
    if (problem === null) return null;
    const named = this.reading.ok ? this.reading.state.primary : null;
    const self = this.reading.ok ? this.reading.state.node : null;
    return {
      reason: `LiteFS says this node is primary but ${problem}`,
      primary: named !== null && named !== self ? named : null,
    };
  }

  // A planned handoff drains the writers first (handoff-drain.ts): a primary view that is
  // backed is still not writable while the drain file is in force.
  primaryRefusal(): PrimaryRefusal | null {
    const drain = activeHandoffDrain(this.drainPath, this.nowNs());
    this.lastDraining = drain !== null;
    if (drain === null) return null;
    return {
      reason: "handoff" as const,
      primary: drain.target,
      detail: `handoff in progress (pid ${drain.pid})${drain.target ? ` to "${drain.target}"` : ""}`,
    };
  }

  // Called right after this primary view was judged writable: the verdict holds until the
  // deadline or the quorum-contact grace runs out, and at most one poll interval, so that even a
  // synchronous write loop that never yields to the poll timer sees a handoff drain in time.
  writableUntilMs(): number {
    const next = nextLeaseChangeNs(this.reading);
    const untilLease = next === null ? Infinity : Number(next - this.nowNs()) / 1e6;
    return performance.now() + Math.min(untilLease, this.pollMs);
  }

  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    if (!this.poller) {
      this.poller = setInterval(this.check, this.pollMs);
      this.poller.unref();
    }
    this.armDeadline();
    return () => {
      this.listeners.delete(listener);
      if (this.listeners.size === 0) this.stop();
    };
  }

  current(): LeaseStateReading {
    return this.reading;
  }

  raftSnapshot(): RaftSnapshot | null {
    if (!this.reading.ok) return null;
    const { raft, primary } = this.reading.state;
    return { term: raft.term, leader: raft.leader, leaderChanges: this.leaderChanges, leaseHolder: primary };
  }

  problemNow(): string | null {
    return leaseProblem(this.read(this.statePath), this.nowNs());
  }

  close(): void {
    this.listeners.clear();
    this.stop();
  }

  private draining(): boolean {
    return activeHandoffDrain(this.drainPath, this.nowNs()) !== null;
  }

  private noteLeader(): void {
    if (!this.reading.ok) return;
    const leader = this.reading.state.raft.leader;
    if (this.lastLeader !== undefined && leader !== null && leader !== this.lastLeader) this.leaderChanges++;
    if (leader !== null) this.lastLeader = leader;
  }

  /** Re-reads the state; tells the listeners when the answer may have changed. A timer callback. */
  private readonly check = (): void => {
    this.reading = this.read(this.statePath);
    this.noteLeader();
    const problem = leaseProblem(this.reading, this.nowNs());
    const drainingNow = this.draining();
    const changed = (problem === null) !== (this.lastProblem === null) || drainingNow !== this.lastDraining;
    this.lastProblem = problem;
    this.lastDraining = drainingNow;
    this.armDeadline();
    if (changed) for (const l of [...this.listeners]) l();
  };

  /** A timer at the next lease deadline, so the answer changes on time even between polls. */
  private armDeadline(): void {
    if (this.deadlineTimer) clearTimeout(this.deadlineTimer);
    this.deadlineTimer = null;
    const next = nextLeaseChangeNs(this.reading);
    if (next === null || this.listeners.size === 0) return;
    const ms = Math.max(0, Number(next - this.nowNs()) / 1e6) + 1;
    this.deadlineTimer = setTimeout(this.check, Math.min(ms, 2 ** 31 - 1));
    this.deadlineTimer.unref();
  }

  private stop(): void {
    if (this.poller) clearInterval(this.poller);
    if (this.deadlineTimer) clearTimeout(this.deadlineTimer);
    this.poller = null;
    this.deadlineTimer = null;
  }
}
