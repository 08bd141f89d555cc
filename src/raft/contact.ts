// What a member knows about contact with the others, on its own monotonic clock: when each member
// last sent it a Raft message (other than a vote request), and when it last heard from a Raft leader. The lease leader's
// silence count (src/lease/member-silence.ts, docs/fast-failover.md) rests on both.
//
// Leader contact: a leader's append, heartbeat or snapshot arriving, or being the leader itself;
// boot counts as contact (a member that restarted may have acknowledged a leader just before it
// went down and no longer knows when). A granted vote carries its sender's leader-contact age, so
// the winner of an election learns a time no earlier than the last leader contact of every member
// that voted for it (`takeoverBound`). Why that is enough: any write-gate contact an earlier leader
// confirmed needed acknowledgements from a majority, that majority shares a member with the
// winner's voters, and that member acknowledged before it voted (after voting it refuses the
// older term). So the silence of a member can be counted from that bound rather than from the end
// of the election, which takes the election's length out of the failover time.
//
// Every approximation errs late (a later contact time makes the leader wait longer, never shorter):
// an age is measured when the vote is sent (after it was decided), the receiver subtracts it from
// the time the vote arrived (after it was sent), a vote without an age counts as contact on
// arrival (a member that does not report one), and an age beyond 32 bits is sent as the largest
// 32-bit number.

import type { RaftRole } from "./core.js";
import type { Message, NodeId } from "./types.js";

/** A granted vote's context: the voter's leader-contact age in ms, 4 bytes big-endian. */
const AGE_BYTES = 4;
const MAX_AGE_MS = 0xffff_ffff;

/**
 * Test-only switch for the simulator's mutation check (why such switches live in shipped code:
 * src/raft/knobs.ts). `ownContactOnly` drops the voters' reports from the takeover bound, the
 * unsafe shortcut the check must catch. The runner never sets it.
 */
export interface ContactKnobs {
  readonly ownContactOnly?: boolean;
}

export class RaftContact {
  /** Member id -> clock ms of its last message (members only: the map stays bounded). */
  private readonly heard = new Map<NodeId, number>();
  private readonly members: ReadonlySet<NodeId>;
  private leaderContactAt: number;
  private leading = false;
  /** The term whose granted votes `votesContactAt` covers, and the latest contact they reported. */
  private votesTerm = -1;
  private votesContactAt = -Infinity;
  private bound: number | null = null;

  constructor(
    members: Iterable<NodeId>,
    private readonly now: () => number,
    private readonly knobs: ContactKnobs = {},
  ) {
    this.members = new Set(members);
    this.leaderContactAt = now();
  }

  /** Call for every message that arrives, before the core steps it. */
  received(m: Message): void {
    if (!this.members.has(m.from)) return;
    const at = this.now();
    // A member asking for votes is campaigning, not following: a member that hears nobody keeps
    // sending those, and counting them would keep its session alive until the TTL. Every other
    // message counts, ReadIndex requests above all (the silence rule's safety rests on them).
    if (m.type !== "preVote" && m.type !== "vote") this.heard.set(m.from, at);
    if (m.type === "app" || m.type === "heartbeat" || m.type === "snap") this.leaderContactAt = at;
    else if (m.type === "voteResp" && !m.reject) this.recordVote(m.term, at - reportedAge(m));
  }

  /** Call for every message about to be sent: a granted vote gets this member's leader-contact age. */
  outgoing(m: Message): Message {
    if (m.type !== "voteResp" || m.reject) return m;
    const age = this.leading ? 0 : Math.min(MAX_AGE_MS, Math.max(0, Math.floor(this.now() - this.leaderContactAt)));
    const context = Buffer.alloc(AGE_BYTES);
    context.writeUInt32BE(age);
    return { ...m, context };
  }

  /** Call when the core's role changes (its Ready's soft state). */
  roleChanged(role: RaftRole, term: number): void {
    if (role === "leader" && !this.leading) {
      this.leading = true;
      // Its own vote counts too: its own last leader contact.
      const votes = this.votesTerm === term && !this.knobs.ownContactOnly ? this.votesContactAt : -Infinity;
      this.bound = Math.max(this.leaderContactAt, votes);
    } else if (role !== "leader" && this.leading) {
      this.leading = false;
      this.leaderContactAt = this.now();
      this.bound = null;
    }
  }

  /** Clock ms when a message from `member` last arrived, or null. */
  heardFrom(member: NodeId): number | null {
    return this.heard.get(member) ?? null;
  }

  /**
   * While this member leads: a clock time no earlier than the last leader contact of any member
   * that voted for it (itself included); null when it does not lead.
   */
  takeoverBound(): number | null {
    return this.bound;
  }

  private recordVote(term: number, contactAt: number): void {
    if (term < this.votesTerm) return;
    if (term > this.votesTerm) {
      this.votesTerm = term;
      this.votesContactAt = -Infinity;
    }
    this.votesContactAt = Math.max(this.votesContactAt, contactAt);
  }
}

/** The age a granted vote reports; 0 (contact on arrival) when it carries none. */
function reportedAge(m: Message): number {
  const c = m.context;
  if (c?.length !== AGE_BYTES) return 0;
  return Buffer.from(c.buffer, c.byteOffset, c.byteLength).readUInt32BE(0);
}
