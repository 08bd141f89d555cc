// Fast failover (docs/fast-failover.md): the Raft leader ends the session of a member it has not
// heard from for longer than that member's write-gate grace G plus a margin M.
//
// Why it is safe: the gate on the holder's member opens writes only while its last quorum
// contact (the start of a ReadIndex round the cluster confirmed) is younger than G. Such a round
// reaches the current leader as a Raft message from that member, after the round started; one
// confirmed by an earlier leader started before the last leader contact of some member that voted
// for this leader (src/raft/contact.ts, "takeover bound"). So the later of "heard from" and that
// bound is never earlier than the holder's last contact, and once this leader counted G + M of
// silence, the holder's writers have been stopped for at least M. Lock-delay then still applies
// before another node can acquire.

import type { NodeId } from "../raft/types.js";
import type { SessionRecord } from "./state-machine.js";
import type { LeaseClock } from "./types.js";

/** How often the leader looks for silent holders (ms): small against M. */
const MEMBER_SILENCE_CHECK_MS = 50;

export interface MemberSilenceOptions {
  readonly clock: LeaseClock;
  /** M: silence beyond the holder's grace before its session ends. */
  readonly marginMs: number;
  readonly self: () => NodeId;
  readonly sessions: () => readonly SessionRecord[];
  /** Clock ms of the last Raft message from `member`, or null. */
  readonly heardFrom: (member: NodeId) => number | null;
  /**
   * Clock ms no earlier than the last contact with an earlier leader of every member that voted
   * for this one (RaftPort.takeoverBound); null: unknown, count from the takeover.
   */
  readonly takeoverBound: () => number | null;
  /** Called (again on later checks until it ends) for a session whose holder went silent. */
  readonly onSilent: (session: SessionRecord, silentMs: number) => void;
}

/** The leader's watch; `start` on taking office, `stop` on stepping down. */
export class MemberSilenceWatch {
  /** Silence is counted from no earlier than this (null: not leading). */
  private countFrom: number | null = null;
  private timer: unknown = null;

  constructor(private readonly options: MemberSilenceOptions) {}

  start(): void {
    this.stop();
    // A new leader's own history of its members may be short: their silence counts from the
    // takeover bound, which its voters' contact with the previous leader gives (never later than now).
    const now = this.options.clock.now();
    this.countFrom = Math.min(now, this.options.takeoverBound() ?? now);
    this.schedule();
  }

  stop(): void {
    if (this.timer !== null) this.options.clock.clearTimer(this.timer);
    this.timer = null;
    this.countFrom = null;
  }

  /** How long `member` has been silent as this leader counts it (0 for itself). */
  silenceOf(member: NodeId): number {
    if (this.countFrom === null || member === this.options.self()) return 0;
    const heard = Math.max(this.countFrom, this.options.heardFrom(member) ?? -Infinity);
    return this.options.clock.now() - heard;
  }

  private schedule(): void {
    this.timer = this.options.clock.setTimer(() => {
      this.timer = null;
      this.check();
      if (this.countFrom !== null) this.schedule();
    }, MEMBER_SILENCE_CHECK_MS);
  }

  private check(): void {
    for (const session of this.options.sessions()) {
      if (!session.holder) continue;
      const silent = this.silenceOf(session.holder.member);
      if (silent > session.holder.graceMs + this.options.marginMs) this.options.onSilent(session, silent);
    }
  }
}
