// The Raft consensus core in the etcd-raft shape: a pure state machine driven by step(message),
// tick() and campaign(); it answers with Ready batches. No I/O, no timers, no clock, no global
// randomness (the PRNG is injected), so the same inputs always give the same outputs; that is what
// makes the golden tests and the simulator possible.
//
// Host contract (runner / simulator), per Ready `rd`:
//   1. persist rd.snapshot, rd.entries (an entry at index i replaces everything from i on) and
//      rd.hardState, and make them durable (fsync);
//   2. only then send rd.messages (votes and append acks promise durable state);
//   3. restore rd.snapshot into the state machine, apply rd.committedEntries in order, serve
//      rd.readStates once applied >= their index;
//   4. call advance(rd) before asking for the next ready().
import { NotLeaderError, RaftConfigError, RaftUsageError } from "./errors.js";
import { resolveKnobs, type SafetyKnobs } from "./knobs.js";
import { RaftLog } from "./log.js";
import { Progress, type ProgressState } from "./progress.js";
import { majority, quorumMatchIndex, tallyVotes } from "./quorum.js";
import { ReadOnlyQueue } from "./read-only.js";
import type { Entry, HardState, Message, MessageType, NodeId, ReadState, Snapshot } from "./types.js";

export type { SafetyKnobs } from "./knobs.js";

export type RaftRole = "follower" | "candidate" | "preCandidate" | "leader";

export interface SoftState {
  readonly leader: NodeId | null;
  readonly role: RaftRole;
}

export interface RaftConfig {
  readonly id: NodeId;
  /** Static membership, this node included. */
  readonly voters: readonly NodeId[];
  /** Carried on every message; messages of another cluster are dropped. */
  readonly clusterId: string;
  /** Ticks without a leader before campaigning; the real timeout is random in [electionTick, 2*electionTick). */
  readonly electionTick: number;
  /** Ticks between leader heartbeats; must be below electionTick. */
  readonly heartbeatTick: number;
  /** Injected PRNG in [0, 1) for randomized election timeouts. */
  readonly random: () => number;
  /** Default true: a pre-election round that does not bump the term. */
  readonly preVote?: boolean;
  /** Default true: leaders without majority contact step down; followers in a leader lease ignore votes. */
  readonly checkQuorum?: boolean;
  /** Default 64: entries per append message. */
  readonly maxEntriesPerMessage?: number;
  /** Durable state to resume from after a restart. */
  readonly restore?: {
    readonly hardState: HardState;
    readonly entries: readonly Entry[];
    readonly snapshot: Snapshot | null;
  };
  /** Test-only: switch one safety rule off (mutation checks). */
  readonly knobs?: Partial<SafetyKnobs>;
}

export interface Ready {
  /** Leader/role, when changed since the last Ready. */
  readonly softState: SoftState | null;
  /** To persist (fsync) when changed. */
  readonly hardState: HardState | null;
  /** To append durably; an entry at index i replaces everything from i on. */
  readonly entries: Entry[];
  /** To persist, then restore the state machine from. */
  readonly snapshot: Snapshot | null;
  /** To apply, in order, after the above is durable. */
  readonly committedEntries: Entry[];
  /** To send ONLY after hardState/entries/snapshot are durable. */
  readonly messages: Message[];
  /** Linearizable reads: serve each once the state machine has applied `index`. */
  readonly readStates: ReadState[];
}

interface ProgressStatus {
  readonly match: number;
  readonly next: number;
  readonly state: ProgressState;
  readonly recentActive: boolean;
}

export interface RaftStatus {
  readonly id: NodeId;
  readonly term: number;
  readonly vote: NodeId | null;
  readonly role: RaftRole;
  readonly leader: NodeId | null;
  readonly commit: number;
  readonly applied: number;
  readonly firstIndex: number;
  readonly lastIndex: number;
  readonly snapshotIndex: number;
  /** Leader only: each voter's replication progress. */
  readonly progress: Readonly<Record<NodeId, ProgressStatus>> | null;
}

const NO_CONTEXT = null;

export class RaftCore {
  readonly id: NodeId;
  private readonly voters: readonly NodeId[];
  private readonly clusterId: string;
  private readonly electionTick: number;
  private readonly heartbeatTick: number;
  private readonly random: () => number;
  private readonly preVote: boolean;
  private readonly checkQuorum: boolean;
  private readonly maxEntries: number;
  private readonly knobs: SafetyKnobs;

  private _term = 0;
  private _vote: NodeId | null = null;
  private _role: RaftRole = "follower";
  private _leader: NodeId | null = null;
  private readonly log: RaftLog;

  private electionElapsed = 0;
  private heartbeatElapsed = 0;
  /** Leader only: ticks since it took office, the clock for CheckQuorum contact. */
  private leaderTicks = 0;
  private randomizedElectionTimeout = 0;

  private prs = new Map<NodeId, Progress>();
  private votes = new Map<NodeId, boolean>();
  private readonly readOnly = new ReadOnlyQueue();
  /** Reads that arrived before this leader committed an entry of its term. */
  private pendingReads: { from: NodeId; ctx: Uint8Array }[] = [];
  /** Reads this leader answers return at least this index (propose with `fenceReads`). */
  private readFence = 0;

  private msgs: Message[] = [];
  private readStates: ReadState[] = [];
  private prevSoft: SoftState | null = null;
  private prevHard: HardState;
  private outstanding = false;

  constructor(config: RaftConfig) {
    validateConfig(config);
    this.id = config.id;
    this.voters = [...config.voters];
    this.clusterId = config.clusterId;
    this.electionTick = config.electionTick;
    this.heartbeatTick = config.heartbeatTick;
    this.random = config.random;
    this.preVote = config.preVote ?? true;
    this.checkQuorum = config.checkQuorum ?? true;
    this.maxEntries = config.maxEntriesPerMessage ?? 64;
    this.knobs = resolveKnobs(config.knobs);
    const r = config.restore;
    if (r) {
      if (r.snapshot) checkSnapshotVoters(r.snapshot, this.voters);
      this.log = RaftLog.restore(r.snapshot, r.entries, r.hardState.commit);
      this._term = r.hardState.term;
      this._vote = r.hardState.vote;
      this.prevHard = { term: r.hardState.term, vote: r.hardState.vote, commit: this.log.committed };
    } else {
      this.log = new RaftLog();
      this.prevHard = { term: 0, vote: null, commit: 0 };
    }
    this.becomeFollower(this._term, null);
  }

  // ---------------------------------------------------------------- read-only views

  get term(): number {
    return this._term;
  }
  get vote(): NodeId | null {
    return this._vote;
  }
  get leader(): NodeId | null {
    return this._leader;
  }
  get role(): RaftRole {
    return this._role;
  }
  get commitIndex(): number {
    return this.log.committed;
  }
  get appliedIndex(): number {
    return this.log.applied;
  }
  get lastIndex(): number {
    return this.log.lastIndex();
  }
  /** Term of the entry at `index` (undefined when compacted or absent). */
  termAt(index: number): number | undefined {
    return this.log.term(index);
  }
  /** The in-memory entries after the snapshot (for dumps and checks; do not mutate). */
  logEntries(): readonly Entry[] {
    return this.log.allEntries();
  }
  status(): RaftStatus {
    let progress: Record<NodeId, ProgressStatus> | null = null;
    if (this._role === "leader") {
      progress = {};
      for (const [id, pr] of this.prs) {
        progress[id] = { match: pr.match, next: pr.next, state: pr.state, recentActive: this.recentlyActive(pr) };
      }
    }
    return {
      id: this.id,
      term: this._term,
      vote: this._vote,
      role: this._role,
      leader: this._leader,
      commit: this.log.committed,
      applied: this.log.applied,
      firstIndex: this.log.firstIndex(),
      lastIndex: this.log.lastIndex(),
      snapshotIndex: this.log.snapshotIndex(),
      progress,
    };
  }

  // ---------------------------------------------------------------- inputs

  tick(): void {
    if (this._role === "leader") this.tickLeader();
    else this.tickElection();
  }

  /** Start an election now (through PreVote when enabled). Leaders ignore it. */
  campaign(): void {
    this.hup();
  }

  /**
   * Appends `data` as a new entry (leader only); returns where it was placed. The entry may still
   * be lost if leadership is. `fenceReads`: every read this leader answers from now on returns at
   * least this entry's index, so a reader sees the entry (once committed) before its read
   * completes, not only what was committed when it asked. The lease service fences the end of a
   * silent member's session: that member's next write-gate probe cannot succeed without seeing it
   * (docs/fast-failover.md).
   */
  propose(data: Uint8Array, options: { fenceReads?: boolean } = {}): { index: number; term: number } {
    if (this._role !== "leader") throw new NotLeaderError(this.id, this._leader, "accept a proposal");
    const index = this.log.lastIndex() + 1;
    this.log.append([{ term: this._term, index, type: "normal", data }]);
    if (options.fenceReads) this.readFence = index;
    this.bcastAppend(false);
    return { index, term: this._term };
  }

  /**
   * Request a linearizable read. `ctx` must be unique per request; it comes back in a ReadState
   * (possibly in a later Ready). Followers forward to the leader; with no leader known it throws.
   */
  readIndex(ctx: Uint8Array): void {
    if (this._role === "leader") {
      this.handleReadRequest(this.id, ctx);
      return;
    }
    if (this._role === "follower" && this._leader !== null) {
      this.send({ type: "readIndex", to: this._leader, context: ctx });
      return;
    }
    throw new NotLeaderError(this.id, this._leader, "serve a read");
  }

  step(m: Message): void {
    // Static membership and cluster isolation: anything else is noise or a misconfigured peer.
    if (m.clusterId !== this.clusterId || m.to !== this.id || m.from === this.id) return;
    if (!this.voters.includes(m.from)) return;

    if (m.term > this._term) {
      if (m.type === "vote" || m.type === "preVote") {
        // Leader lease for votes: a node that heard from a live leader within the minimum
        // election timeout ignores disruptive candidates (thesis 4.2.3).
        const inLease = this._role === "leader" || (this._leader !== null && this.electionElapsed < this.electionTick);
        if (inLease && (m.type === "preVote" ? this.preVote : this.checkQuorum)) return;
      }
      if (m.type === "preVote") {
        // PreVote does not change our term.
      } else if (m.type === "preVoteResp" && !m.reject) {
        // A granted pre-vote carries the future term; we bump it only when campaigning for real.
      } else {
        const fromLeader = m.type === "app" || m.type === "heartbeat" || m.type === "snap";
        this.becomeFollower(m.term, fromLeader ? m.from : null);
      }
    } else if (m.term < this._term) {
      if ((this.checkQuorum || this.preVote) && (m.type === "heartbeat" || m.type === "app")) {
        // A stale leader (e.g. across a healed partition) learns our term and steps down;
        // without this it might never hear a higher term when we ignore its messages.
        this.send({ type: "appResp", to: m.from });
      } else if (m.type === "preVote") {
        this.send({ type: "preVoteResp", to: m.from, reject: true });
      }
      return;
    }

    if (m.type === "vote" || m.type === "preVote") {
      this.handleVoteRequest(m);
      return;
    }
    switch (this._role) {
      case "leader":
        this.stepLeader(m);
        break;
      case "candidate":
      case "preCandidate":
        this.stepCandidate(m);
        break;
      case "follower":
        this.stepFollower(m);
        break;
    }
  }

  /**
   * Snapshot the state machine as of `index` (must be <= the applied index) and drop the log up
   * to it. Returns the snapshot for the host to persist (it may then drop its stored entries
   * <= index), or null when the log is already compacted past `index` (a leader's snapshot was
   * received meanwhile): then there is nothing to persist.
   */
  compact(index: number, data: Uint8Array): Snapshot | null {
    return this.log.compact(index, data, this.voters);
  }

  // ---------------------------------------------------------------- Ready / advance

  hasReady(): boolean {
    if (this.outstanding) return false;
    const soft = this.softState();
    if (this.prevSoft === null || soft.leader !== this.prevSoft.leader || soft.role !== this.prevSoft.role) return true;
    if (!sameHardState(this.hardState(), this.prevHard)) return true;
    return (
      this.msgs.length > 0 ||
      this.readStates.length > 0 ||
      this.log.pendingSnapshot() !== null ||
      this.log.unstableEntries().length > 0 ||
      this.log.nextCommittedEntries().length > 0
    );
  }

  ready(): Ready {
    if (this.outstanding) throw new RaftUsageError("ready() called again before advance() of the previous Ready");
    this.outstanding = true;
    const soft = this.softState();
    const softChanged =
      this.prevSoft === null || soft.leader !== this.prevSoft.leader || soft.role !== this.prevSoft.role;
    const hard = this.hardState();
    const hardChanged = !sameHardState(hard, this.prevHard);
    const rd: Ready = {
      softState: softChanged ? soft : null,
      hardState: hardChanged ? hard : null,
      entries: this.log.unstableEntries(),
      snapshot: this.log.pendingSnapshot(),
      committedEntries: this.log.nextCommittedEntries(),
      messages: this.msgs,
      readStates: this.readStates,
    };
    if (softChanged) this.prevSoft = soft;
    if (hardChanged) this.prevHard = hard;
    this.msgs = [];
    this.readStates = [];
    return rd;
  }

  advance(rd: Ready): void {
    if (!this.outstanding) throw new RaftUsageError("advance() without an outstanding Ready");
    this.outstanding = false;
    if (rd.snapshot) this.log.snapshotStable(rd.snapshot.meta.index);
    const lastEntry = rd.entries[rd.entries.length - 1];
    if (lastEntry) this.log.stableTo(lastEntry.index, lastEntry.term);
    const lastApplied = rd.committedEntries[rd.committedEntries.length - 1];
    if (lastApplied) this.log.appliedTo(lastApplied.index);
    if (this._role === "leader") {
      // The leader counts itself only for entries it has made durable.
      const self = this.prs.get(this.id);
      if (self && self.maybeUpdate(this.log.stableLastIndex()) && this.maybeCommit()) this.bcastAppend(true);
    }
  }

  // ---------------------------------------------------------------- role changes

  private softState(): SoftState {
    return { leader: this._leader, role: this._role };
  }

  private hardState(): HardState {
    return { term: this._term, vote: this._vote, commit: this.log.committed };
  }

  private reset(term: number): void {
    if (this._term !== term) {
      this._term = term;
      this._vote = null;
    }
    this._leader = null;
    this.electionElapsed = 0;
    this.heartbeatElapsed = 0;
    this.leaderTicks = 0;
    this.randomizedElectionTimeout = this.electionTick + Math.floor(this.random() * this.electionTick);
    this.votes.clear();
    this.prs.clear();
    this.readOnly.reset();
    this.pendingReads = [];
    this.readFence = 0;
  }

  private becomeFollower(term: number, leader: NodeId | null): void {
    this.reset(term);
    this._role = "follower";
    this._leader = leader;
  }

  private becomePreCandidate(): void {
    // Term and vote stay: a failed pre-election leaves no trace.
    this.reset(this._term);
    this._role = "preCandidate";
  }

  private becomeCandidate(): void {
    this.reset(this._term + 1);
    this._vote = this.id;
    this._role = "candidate";
  }

  private becomeLeader(): void {
    this.reset(this._term);
    this._role = "leader";
    this._leader = this.id;
    const next = this.log.lastIndex() + 1;
    // Every follower starts with a full election timeout of grace before CheckQuorum counts it out.
    for (const v of this.voters) this.prs.set(v, new Progress(next));
    const self = this.prs.get(this.id);
    if (self) self.match = this.log.stableLastIndex();
    // The no-op lets the new leader commit (and so learn the commit index of) earlier terms.
    this.log.append([{ term: this._term, index: next, type: "noop", data: new Uint8Array(0) }]);
    this.bcastAppend(true);
  }

  // ---------------------------------------------------------------- elections

  private tickElection(): void {
    this.electionElapsed++;
    if (this.electionElapsed >= this.randomizedElectionTimeout) {
      this.electionElapsed = 0;
      this.hup();
    }
  }

  private hup(): void {
    if (this._role === "leader") return;
    if (this.preVote) this.startCampaign("pre");
    else this.startCampaign("election");
  }

  private startCampaign(kind: "pre" | "election"): void {
    if (kind === "pre") this.becomePreCandidate();
    else this.becomeCandidate();
    const voteTerm = kind === "pre" ? this._term + 1 : this._term;
    this.votes.set(this.id, true);
    if (tallyVotes(this.votes, this.voters.length) === "won") {
      if (kind === "pre") this.startCampaign("election");
      else this.becomeLeader();
      return;
    }
    for (const v of this.voters) {
      if (v === this.id) continue;
      this.send({
        type: kind === "pre" ? "preVote" : "vote",
        to: v,
        term: voteTerm,
        index: this.log.lastIndex(),
        logTerm: this.log.lastTerm(),
      });
    }
  }

  private handleVoteRequest(m: Message): void {
    const pre = m.type === "preVote";
    const canVote =
      this._vote === m.from || (this._vote === null && this._leader === null) || (pre && m.term > this._term);
    const upToDate = !this.knobs.electionRestriction || this.log.isUpToDate(m.index, m.logTerm);
    const respType: MessageType = pre ? "preVoteResp" : "voteResp";
    if (canVote && upToDate) {
      // The vote is in the hard state of this Ready, so it is durable before the answer leaves.
      this.send({ type: respType, to: m.from, term: m.term });
      if (!pre) {
        this.electionElapsed = 0;
        this._vote = m.from;
      }
    } else {
      this.send({ type: respType, to: m.from, reject: true });
    }
  }

  private stepCandidate(m: Message): void {
    switch (m.type) {
      case "app":
        this.becomeFollower(this._term, m.from);
        this.handleAppend(m);
        return;
      case "heartbeat":
        this.becomeFollower(this._term, m.from);
        this.handleHeartbeat(m);
        return;
      case "snap":
        this.becomeFollower(this._term, m.from);
        this.handleSnapshot(m);
        return;
      case "preVoteResp":
      case "voteResp": {
        if ((m.type === "preVoteResp") !== (this._role === "preCandidate")) return; // stale round
        this.votes.set(m.from, !m.reject);
        const result = tallyVotes(this.votes, this.voters.length);
        if (result === "won") {
          if (this._role === "preCandidate") this.startCampaign("election");
          else this.becomeLeader();
        } else if (result === "lost") {
          this.becomeFollower(this._term, null);
        }
        return;
      }
      default:
        return;
    }
  }

  // ---------------------------------------------------------------- follower

  private stepFollower(m: Message): void {
    switch (m.type) {
      case "app":
        this.electionElapsed = 0;
        this._leader = m.from;
        this.handleAppend(m);
        return;
      case "heartbeat":
        this.electionElapsed = 0;
        this._leader = m.from;
        this.handleHeartbeat(m);
        return;
      case "snap":
        this.electionElapsed = 0;
        this._leader = m.from;
        this.handleSnapshot(m);
        return;
      case "readIndexResp":
        if (m.context) this.readStates.push({ index: m.index, requestCtx: m.context });
        return;
      default:
        return;
    }
  }

  private handleAppend(m: Message): void {
    const committed = this.log.committed;
    if (m.index < committed) {
      this.send({ type: "appResp", to: m.from, index: committed });
      return;
    }
    const prevOk = this.knobs.prevLogTermCheck
      ? this.log.matchTerm(m.index, m.logTerm)
      : this.log.term(m.index) !== undefined; // mutation: only "the index exists"
    if (!prevOk) {
      this.send({ type: "appResp", to: m.from, index: m.index, reject: true, rejectHint: this.log.lastIndex() });
      return;
    }
    const lastNew = m.index + m.entries.length;
    const conflict = this.log.findConflict(m.entries);
    if (conflict !== 0) {
      const first = m.entries[0];
      this.log.append(m.entries.slice(conflict - (first ? first.index : conflict)));
    }
    this.log.commitTo(Math.min(m.commit, lastNew));
    this.send({ type: "appResp", to: m.from, index: lastNew });
  }

  private handleHeartbeat(m: Message): void {
    // The leader sends min(match, commit), so this never commits past what we hold.
    this.log.commitTo(Math.min(m.commit, this.log.lastIndex()));
    this.send({ type: "heartbeatResp", to: m.from, context: m.context });
  }

  private handleSnapshot(m: Message): void {
    const s = m.snapshot;
    if (!s) return;
    if (s.meta.index <= this.log.committed) {
      this.send({ type: "appResp", to: m.from, index: this.log.committed });
      return;
    }
    if (this.log.matchTerm(s.meta.index, s.meta.term)) {
      // We already hold that entry: just learn it is committed.
      this.log.commitTo(s.meta.index);
    } else {
      this.log.restoreSnapshot(s);
    }
    this.send({ type: "appResp", to: m.from, index: this.log.committed });
  }

  // ---------------------------------------------------------------- leader

  private tickLeader(): void {
    this.heartbeatElapsed++;
    this.leaderTicks++;
    if (this.checkQuorum && !this.quorumActive()) {
      this.becomeFollower(this._term, null);
      return;
    }
    if (this.heartbeatElapsed >= this.heartbeatTick) {
      this.heartbeatElapsed = 0;
      this.bcastHeartbeat(this.readOnly.lastPendingContext());
    }
  }

  /** CheckQuorum: has a majority (self included) been heard from within the last electionTick ticks? */
  private quorumActive(): boolean {
    let active = 0;
    for (const [id, pr] of this.prs) if (id === this.id || this.recentlyActive(pr)) active++;
    return active >= majority(this.voters.length);
  }

  private recentlyActive(pr: Progress): boolean {
    return this.leaderTicks - pr.lastActiveTick < this.electionTick;
  }

  private markActive(pr: Progress): void {
    pr.lastActiveTick = this.leaderTicks;
  }

  private stepLeader(m: Message): void {
    const pr = this.prs.get(m.from);
    switch (m.type) {
      case "appResp":
        if (pr) this.handleAppendResponse(m, pr);
        return;
      case "heartbeatResp":
        if (pr) this.handleHeartbeatResponse(m, pr);
        return;
      case "readIndex":
        if (m.context) this.handleReadRequest(m.from, m.context);
        return;
      default:
        return;
    }
  }

  private handleAppendResponse(m: Message, pr: Progress): void {
    this.markActive(pr);
    if (m.reject) {
      if (pr.maybeDecrTo(m.index, m.rejectHint)) {
        if (pr.state === "replicate") pr.becomeProbe();
        this.sendAppend(m.from, true);
      }
      return;
    }
    const wasPaused = pr.isPaused();
    if (!pr.maybeUpdate(m.index)) return;
    if (pr.state === "probe") pr.becomeReplicate();
    else if (pr.state === "snapshot" && pr.match >= pr.pendingSnapshot) pr.becomeReplicate();
    if (this.maybeCommit()) this.bcastAppend(true);
    else if (wasPaused || pr.next <= this.log.lastIndex()) this.sendAppend(m.from, false);
  }

  private handleHeartbeatResponse(m: Message, pr: Progress): void {
    this.markActive(pr);
    pr.paused = false;
    // A snapshot may have been lost: fall back to probing (which resends it if still needed).
    if (pr.state === "snapshot") pr.becomeProbe();
    if (pr.match < this.log.lastIndex()) this.sendAppend(m.from, true);
    if (m.context && this.knobs.readIndexQuorum) {
      for (const read of this.readOnly.recvAck(m.from, m.context, this.voters.length)) {
        this.answerRead(read.from, read.index, read.ctx);
      }
    }
  }

  private handleReadRequest(from: NodeId, ctx: Uint8Array): void {
    if (this.log.term(this.log.committed) !== this._term) {
      // Our commit index may lag entries committed by earlier leaders until our no-op commits.
      this.pendingReads.push({ from, ctx });
      return;
    }
    const index = Math.max(this.log.committed, this.readFence);
    if (this.voters.length === 1 || !this.knobs.readIndexQuorum) {
      this.answerRead(from, index, ctx);
      return;
    }
    if (this.readOnly.add(index, ctx, from, this.id)) this.bcastHeartbeat(ctx);
  }

  private answerRead(to: NodeId, index: number, ctx: Uint8Array): void {
    if (to === this.id) this.readStates.push({ index, requestCtx: ctx });
    else this.send({ type: "readIndexResp", to, index, context: ctx });
  }

  private maybeCommit(): boolean {
    const matches = this.voters.map((v) => this.prs.get(v)?.match ?? 0);
    const mci = quorumMatchIndex(matches);
    if (mci <= this.log.committed) return false;
    // Figure 8: counting replicas proves nothing for entries of earlier terms.
    if (this.knobs.currentTermCommitOnly && this.log.term(mci) !== this._term) return false;
    this.log.commitTo(mci);
    if (this.log.term(mci) === this._term && this.pendingReads.length > 0) {
      const waiting = this.pendingReads;
      this.pendingReads = [];
      for (const r of waiting) this.handleReadRequest(r.from, r.ctx);
    }
    return true;
  }

  private bcastAppend(sendIfEmpty: boolean): void {
    for (const v of this.voters) if (v !== this.id) this.sendAppend(v, sendIfEmpty);
  }

  private bcastHeartbeat(ctx: Uint8Array | null): void {
    for (const v of this.voters) {
      if (v === this.id) continue;
      const pr = this.prs.get(v);
      const commit = Math.min(pr?.match ?? 0, this.log.committed);
      this.send({ type: "heartbeat", to: v, commit, context: ctx });
    }
  }

  /** Send the next entries (or a snapshot when they are compacted away) to one follower. */
  private sendAppend(to: NodeId, sendIfEmpty: boolean): void {
    const pr = this.prs.get(to);
    if (!pr || pr.isPaused()) return;
    const last = this.log.lastIndex();
    for (;;) {
      const prevIndex = pr.next - 1;
      const prevTerm = this.log.term(prevIndex);
      if (prevTerm === undefined) {
        this.sendSnapshot(to, pr);
        return;
      }
      const entries = pr.next <= last ? this.log.slice(pr.next, Math.min(last + 1, pr.next + this.maxEntries)) : [];
      if (entries.length === 0 && !sendIfEmpty) return;
      this.send({ type: "app", to, index: prevIndex, logTerm: prevTerm, entries, commit: this.log.committed });
      const lastSent = entries[entries.length - 1];
      if (pr.state === "probe") {
        pr.paused = true;
        return;
      }
      if (!lastSent) return;
      pr.next = lastSent.index + 1; // replicate: stream optimistically until caught up
      if (pr.next > last) return;
      sendIfEmpty = false;
    }
  }

  private sendSnapshot(to: NodeId, pr: Progress): void {
    const snap = this.log.latestSnapshot();
    if (!snap) return; // unreachable: a missing term below firstIndex implies a snapshot
    pr.becomeSnapshot(snap.meta.index);
    this.send({ type: "snap", to, snapshot: snap });
  }

  // ---------------------------------------------------------------- messages

  private send(m: Partial<Message> & { type: MessageType; to: NodeId }): void {
    this.msgs.push({
      type: m.type,
      clusterId: this.clusterId,
      from: this.id,
      to: m.to,
      term: m.term ?? this._term,
      index: m.index ?? 0,
      logTerm: m.logTerm ?? 0,
      entries: m.entries ?? [],
      commit: m.commit ?? 0,
      reject: m.reject ?? false,
      rejectHint: m.rejectHint ?? 0,
      snapshot: m.snapshot ?? null,
      context: m.context ?? NO_CONTEXT,
    });
  }
}

function sameHardState(a: HardState, b: HardState): boolean {
  return a.term === b.term && a.vote === b.vote && a.commit === b.commit;
}

function checkSnapshotVoters(s: Snapshot, voters: readonly NodeId[]): void {
  const a = [...s.meta.voters].sort().join(",");
  const b = [...voters].sort().join(",");
  if (a !== b) {
    throw new RaftConfigError(
      `RaftConfig.voters (${b}) differ from the stored snapshot's membership (${a}); membership is static`,
    );
  }
}

function validateConfig(c: RaftConfig): void {
  if (!c.id) throw new RaftConfigError("RaftConfig.id must be a non-empty node id");
  if (!c.clusterId) throw new RaftConfigError("RaftConfig.clusterId must be a non-empty string");
  if (!c.voters.includes(c.id)) throw new RaftConfigError(`RaftConfig.voters must include this node's id "${c.id}"`);
  if (new Set(c.voters).size !== c.voters.length) throw new RaftConfigError("RaftConfig.voters has duplicate ids");
  if (!Number.isInteger(c.heartbeatTick) || c.heartbeatTick < 1) {
    throw new RaftConfigError("RaftConfig.heartbeatTick must be an integer >= 1");
  }
  if (!Number.isInteger(c.electionTick) || c.electionTick <= c.heartbeatTick) {
    throw new RaftConfigError("RaftConfig.electionTick must be an integer greater than heartbeatTick");
  }
  if (
    c.maxEntriesPerMessage !== undefined &&
    (!Number.isInteger(c.maxEntriesPerMessage) || c.maxEntriesPerMessage < 1)
  ) {
    throw new RaftConfigError("RaftConfig.maxEntriesPerMessage must be an integer >= 1");
  }
  if (typeof c.random !== "function")
    throw new RaftConfigError("RaftConfig.random must be a function returning [0, 1)");
}
