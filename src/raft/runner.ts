// The Raft node runner: owns the clock (tick timer), the durable storage and the transport, and
// drives the pure core. For every Ready, strictly in this order:
//
//   1. persist hard state, snapshot and entries (fsync; storage calls return only when durable)
//   2. send the messages (they may promise the state just persisted: votes, append acks)
//   3. restore a received snapshot, apply committed entries, resolve proposals and reads
//   4. advance the core; compact the log when enough has been applied since the last snapshot
//
// Ready batches are processed on setImmediate after ticks, messages and proposals, so proposals
// issued in the same turn of the event loop share one fsync.

import { randomBytes } from "node:crypto";
import { hasErrorCode } from "../error-brand.js";
import { RaftContact } from "./contact.js";
import { RaftCore, type RaftRole } from "./core.js";
import type { RaftStorage } from "./storage.js";
import type { RaftTransport } from "./transport.js";
import type { Entry, Message, NodeId } from "./types.js";

export { isNotLeaderError } from "./errors.js";

/** The replicated application state. Must be deterministic: every node applies the same entries. */
export interface StateMachine<R> {
  /**
   * Apply one committed command (entries of type "normal" only; leader no-ops are skipped).
   * Must not throw for bad commands (return an error result instead): a throw stops the node,
   * since replicas that applied differently would diverge.
   */
  apply(entry: Entry): R;
  /** Serialize the whole state (as of the last applied entry) for compaction. */
  snapshot(): Uint8Array;
  /** Replace the whole state with a snapshot's data. */
  restore(data: Uint8Array): void;
}

export type RaftUnavailableReason = "timeout" | "superseded" | "closed" | "failed";

/**
 * A proposal or read that did not complete. For proposals:
 * - `superseded`: another leader's entry took its place; it was definitely NOT applied.
 * - `timeout`, `closed`, `failed`: the outcome is unknown (it may still be applied later).
 */
export class RaftUnavailableError extends Error {
  readonly code = "RAFT_UNAVAILABLE";
  readonly reason: RaftUnavailableReason;

  constructor(reason: RaftUnavailableReason, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.reason = reason;
    this.name = "RaftUnavailableError";
  }
}

/** True when `e` is a RaftUnavailableError (`reason` says why), by its code (works across package copies). */
export function isRaftUnavailableError(e: unknown): e is RaftUnavailableError {
  return hasErrorCode(e, "RAFT_UNAVAILABLE");
}

export interface RaftNodeStatus {
  readonly id: NodeId;
  readonly term: number;
  readonly role: RaftRole;
  readonly leader: NodeId | null;
  readonly commit: number;
  readonly applied: number;
  readonly lastIndex: number;
  readonly snapshotIndex: number;
}

export type RaftNodeEvent =
  | { readonly type: "role"; readonly role: RaftRole; readonly leader: NodeId | null; readonly term: number }
  | { readonly type: "step-error"; readonly message: Message; readonly error: Error }
  | { readonly type: "snapshot"; readonly index: number; readonly source: "local" | "leader" }
  | { readonly type: "fatal"; readonly error: Error };

export interface RaftNodeOptions<R> {
  readonly id: NodeId;
  /** Static membership, this node included. */
  readonly voters: readonly NodeId[];
  readonly clusterId: string;
  /** Opened storage; the node owns it from now on and closes it. */
  readonly storage: RaftStorage;
  /** Started transport; the node owns it from now on and closes it. */
  readonly transport: RaftTransport;
  readonly stateMachine: StateMachine<R>;
  /** Default 100 ms: one heartbeat per tick. */
  readonly tickMs?: number;
  /** Default 10 ticks (random in [10, 20) ticks inside the core). */
  readonly electionTick?: number;
  /** Default 1 tick. */
  readonly heartbeatTick?: number;
  /** Take a snapshot and compact the log after this many applied entries; default 1000. */
  readonly snapshotEvery?: number;
  /** Default 5000 ms. */
  readonly proposalTimeoutMs?: number;
  /** Default 5000 ms. */
  readonly readTimeoutMs?: number;
  readonly random?: () => number;
  readonly preVote?: boolean;
  readonly checkQuorum?: boolean;
  readonly onEvent?: (event: RaftNodeEvent) => void;
  /** Monotonic ms for heardFrom; default process.hrtime (the lease service's clock). */
  readonly now?: () => number;
}

interface PendingProposal<R> {
  readonly term: number;
  readonly resolve: (r: R) => void;
  readonly reject: (e: Error) => void;
  readonly timer: NodeJS.Timeout;
}

interface PendingRead {
  index: number | null;
  readonly resolve: () => void;
  readonly reject: (e: Error) => void;
  readonly timer: NodeJS.Timeout;
}

export class RaftNode<R> {
  readonly id: NodeId;
  private readonly core: RaftCore;
  private readonly storage: RaftStorage;
  private readonly transport: RaftTransport;
  private readonly sm: StateMachine<R>;
  private readonly emit: (e: RaftNodeEvent) => void;
  private readonly contact: RaftContact;
  private readonly snapshotEvery: number;
  private readonly proposalTimeoutMs: number;
  private readonly readTimeoutMs: number;
  private readonly ticker: NodeJS.Timeout;
  private readonly proposals = new Map<number, PendingProposal<R>>();
  private readonly reads = new Map<string, PendingRead>();
  private applied: number;
  private snapshotIndex: number;
  private scheduled = false;
  private stopped: Error | null = null;

  constructor(options: RaftNodeOptions<R>) {
    this.id = options.id;
    this.storage = options.storage;
    this.transport = options.transport;
    this.sm = options.stateMachine;
    this.emit = options.onEvent ?? (() => {});
    this.contact = new RaftContact(options.voters, options.now ?? (() => Number(process.hrtime.bigint()) / 1e6));
    this.snapshotEvery = options.snapshotEvery ?? 1000;
    this.proposalTimeoutMs = options.proposalTimeoutMs ?? 5000;
    this.readTimeoutMs = options.readTimeoutMs ?? 5000;
    const initial = options.storage.initial;
    if (initial.snapshot) this.sm.restore(initial.snapshot.data);
    this.applied = initial.snapshot?.meta.index ?? 0;
    this.snapshotIndex = this.applied;
    this.core = new RaftCore({
      id: options.id,
      voters: options.voters,
      clusterId: options.clusterId,
      electionTick: options.electionTick ?? 10,
      heartbeatTick: options.heartbeatTick ?? 1,
      random: options.random ?? Math.random,
      ...(options.preVote === undefined ? {} : { preVote: options.preVote }),
      ...(options.checkQuorum === undefined ? {} : { checkQuorum: options.checkQuorum }),
      restore: initial,
    });
    this.transport.setHandler((m) => this.onMessage(m));
    this.ticker = setInterval(() => {
      if (this.stopped) return;
      this.core.tick();
      this.schedule();
    }, options.tickMs ?? 100);
    // Entries committed before a restart are applied again from the snapshot on.
    this.schedule();
  }

  status(): RaftNodeStatus {
    const s = this.core.status();
    return {
      id: s.id,
      term: s.term,
      role: s.role,
      leader: s.leader,
      commit: s.commit,
      applied: this.applied,
      lastIndex: s.lastIndex,
      snapshotIndex: s.snapshotIndex,
    };
  }

  /** True once the node stopped (closed or failed); the error says why when it failed. */
  get failure(): Error | null {
    return this.stopped;
  }

  /**
   * Replicates `data` and resolves with the state machine's result once it is committed and
   * applied on this node. Rejects at once with NotLeaderError on a non-leader (its `leader` says
   * where to go), with RaftUnavailableError otherwise (see its reasons). `fenceReads`: see
   * RaftCore.propose.
   */
  propose(data: Uint8Array, options: { fenceReads?: boolean } = {}): Promise<R> {
    if (this.stopped) return Promise.reject(this.stoppedError());
    let placed: { index: number; term: number };
    try {
      placed = this.core.propose(data, options);
    } catch (e) {
      return Promise.reject(e);
    }
    this.schedule();
    return new Promise<R>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.proposals.delete(placed.index);
        reject(
          new RaftUnavailableError(
            "timeout",
            `proposal at index ${placed.index} not applied within ${this.proposalTimeoutMs} ms; its outcome is unknown`,
          ),
        );
      }, this.proposalTimeoutMs);
      this.proposals.set(placed.index, { term: placed.term, resolve, reject, timer });
    });
  }

  /**
   * Linearizable read barrier (ReadIndex): resolves once this node's state machine reflects every
   * write committed before the call. Read the state machine right after it resolves.
   */
  read(): Promise<void> {
    if (this.stopped) return Promise.reject(this.stoppedError());
    const ctx = randomBytes(16);
    const key = ctx.toString("hex");
    try {
      this.core.readIndex(ctx);
    } catch (e) {
      return Promise.reject(e);
    }
    this.schedule();
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.reads.delete(key);
        reject(
          new RaftUnavailableError(
            "timeout",
            `linearizable read not confirmed within ${this.readTimeoutMs} ms (no leader or no quorum)`,
          ),
        );
      }, this.readTimeoutMs);
      this.reads.set(key, { index: null, resolve, reject, timer });
    });
  }

  async close(): Promise<void> {
    if (this.stopped) return;
    this.stop(null);
    await this.transport.close();
  }

  private stoppedError(): RaftUnavailableError {
    return this.stopped && this.stopped.message !== "closed"
      ? new RaftUnavailableError(
          "failed",
          `raft node "${this.id}" stopped after a fatal error: ${this.stopped.message}`,
          { cause: this.stopped },
        )
      : new RaftUnavailableError("closed", `raft node "${this.id}" is closed`);
  }

  private stop(error: Error | null): void {
    this.stopped = error ?? new Error("closed");
    clearInterval(this.ticker);
    this.transport.setHandler(() => {});
    const err = this.stoppedError();
    for (const p of this.proposals.values()) {
      clearTimeout(p.timer);
      p.reject(err);
    }
    this.proposals.clear();
    for (const r of this.reads.values()) {
      clearTimeout(r.timer);
      r.reject(err);
    }
    this.reads.clear();
    try {
      this.storage.close();
    } catch {
      // Already failing or closing: the storage error is not more useful than the first one.
    }
  }

  private fail(error: Error): void {
    if (this.stopped) return;
    this.stop(error);
    this.emit({ type: "fatal", error });
    void this.transport.close();
  }

  /** Monotonic ms when a message from `member` last arrived, or null (the lease leader's silence count). */
  heardFrom(member: NodeId): number | null {
    return this.contact.heardFrom(member);
  }

  /** While leading: monotonic ms no earlier than its voters' last contact with an earlier leader (contact.ts). */
  takeoverBound(): number | null {
    return this.contact.takeoverBound();
  }

  private onMessage(m: Message): void {
    if (this.stopped) return;
    this.contact.received(m);
    try {
      this.core.step(m);
    } catch (e) {
      // The core refuses messages that would break a safety rule; drop the message, keep going.
      this.emit({ type: "step-error", message: m, error: e as Error });
    }
    this.schedule();
  }

  private schedule(): void {
    if (this.scheduled || this.stopped) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.processReady();
    });
  }

  private processReady(): void {
    if (this.stopped) return;
    try {
      while (!this.stopped && this.core.hasReady()) {
        const rd = this.core.ready();
        // 1. durable first
        this.storage.save({ hardState: rd.hardState, entries: rd.entries, snapshot: rd.snapshot });
        // 2. then the messages that depend on it
        if (rd.messages.length > 0) this.transport.send(rd.messages.map((m) => this.contact.outgoing(m)));
        // 3. state machine
        if (rd.snapshot) this.installSnapshot(rd.snapshot.meta.index, rd.snapshot.data);
        for (const e of rd.committedEntries) this.applyEntry(e);
        for (const rs of rd.readStates) {
          const r = this.reads.get(Buffer.from(rs.requestCtx).toString("hex"));
          if (r) r.index = rs.index;
        }
        if (rd.softState) {
          this.contact.roleChanged(rd.softState.role, this.core.term);
          this.emit({ type: "role", role: rd.softState.role, leader: rd.softState.leader, term: this.core.term });
        }
        // 4. advance
        this.core.advance(rd);
        this.serveReads();
        this.maybeCompact();
      }
    } catch (e) {
      this.fail(e as Error);
    }
  }

  private installSnapshot(index: number, data: Uint8Array): void {
    this.sm.restore(data);
    this.applied = index;
    this.snapshotIndex = index;
    // Proposals folded into a leader's snapshot may or may not have been ours: unknown outcome.
    for (const [i, p] of this.proposals) {
      if (i > index) continue;
      clearTimeout(p.timer);
      p.reject(
        new RaftUnavailableError(
          "timeout",
          `proposal at index ${i} was overtaken by a snapshot from the leader; its outcome is unknown`,
        ),
      );
      this.proposals.delete(i);
    }
    this.emit({ type: "snapshot", index, source: "leader" });
  }

  private applyEntry(e: Entry): void {
    if (e.index <= this.applied) return;
    const result = e.type === "normal" ? this.sm.apply(e) : undefined;
    this.applied = e.index;
    const p = this.proposals.get(e.index);
    if (!p) return;
    this.proposals.delete(e.index);
    clearTimeout(p.timer);
    if (p.term === e.term && e.type === "normal") p.resolve(result as R);
    else
      p.reject(
        new RaftUnavailableError(
          "superseded",
          `proposal at index ${e.index} (term ${p.term}) was replaced by another leader's entry (term ${e.term}); it was not applied`,
        ),
      );
  }

  private serveReads(): void {
    for (const [key, r] of this.reads) {
      if (r.index !== null && r.index <= this.applied) {
        this.reads.delete(key);
        clearTimeout(r.timer);
        r.resolve();
      }
    }
  }

  private maybeCompact(): void {
    if (this.applied - this.snapshotIndex < this.snapshotEvery) return;
    const snap = this.core.compact(this.applied, this.sm.snapshot());
    if (snap === null) {
      // A leader's snapshot already covers this index; nothing to persist.
      this.snapshotIndex = Math.max(this.snapshotIndex, this.core.status().snapshotIndex);
      return;
    }
    this.storage.compact(snap);
    this.snapshotIndex = snap.meta.index;
    this.emit({ type: "snapshot", index: snap.meta.index, source: "local" });
  }
}
