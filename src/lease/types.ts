// Shapes shared by the lease service core, its HTTP front end, peer forwarding and the simulator.
import type { RaftRole } from "../raft/core.js";
import type { NodeId } from "../raft/types.js";
import type { InvalidationReason, KvWrite, SessionSpec } from "./commands.js";
import type { KvRecord, LeaseResult, SessionRecord } from "./state-machine.js";

/** One Consul operation, after the HTTP layer parsed and validated it. */
export type LeaseRequest =
  | ({ readonly op: "session-create" } & Omit<SessionSpec, "id">)
  | { readonly op: "session-renew"; readonly id: string }
  | { readonly op: "session-destroy"; readonly id: string; readonly reason: InvalidationReason }
  | { readonly op: "kv-get"; readonly key: string }
  | ({ readonly op: "kv-put" } & KvWrite);

export type LeaseReply =
  | { readonly kind: "created"; readonly id: string }
  /** Renew: null = the session is gone or expiring (HTTP 404). */
  | { readonly kind: "renewed"; readonly session: SessionRecord | null }
  | { readonly kind: "bool"; readonly value: boolean }
  /** KV read: null = no such key (HTTP 404). */
  | { readonly kind: "kv"; readonly entry: KvRecord | null; readonly index: number }
  /** Refused (4xx: rules.ts; 429/507: the state budget, limits.ts) or unavailable (500). */
  | { readonly kind: "error"; readonly status: 400 | 403 | 405 | 413 | 429 | 500 | 507; readonly message: string };

/** What the service needs from its Raft node (the real runner or the simulator's node). */
export interface RaftPort {
  /**
   * Resolves once committed and applied here; rejects on non-leaders and when unavailable.
   * `fenceReads`: reads answered after this call see the entry (RaftCore.propose).
   */
  propose(data: Uint8Array, options?: { fenceReads?: boolean }): Promise<LeaseResult>;
  /** ReadIndex barrier: resolves once the local state reflects everything committed before the call. */
  read(): Promise<void>;
  status(): { readonly id: NodeId; readonly term: number; readonly role: RaftRole; readonly leader: NodeId | null };
  /** Clock ms (LeaseClock) when a Raft message from `member` last arrived here, or null. */
  heardFrom(member: NodeId): number | null;
  /**
   * While leading: clock ms no earlier than the last contact with an earlier leader of every member
   * that voted for this one (src/raft/contact.ts); null when unknown or not leading.
   */
  takeoverBound(): number | null;
}

/** An injected monotonic clock with timers (real: process.hrtime + setTimeout; simulator: virtual). */
export interface LeaseClock {
  /** Monotonic milliseconds. */
  // Function properties, not methods: implementations are closures, and callers pass `clock.now` around.
  now: () => number;
  setTimer: (fn: () => void, ms: number) => unknown;
  clearTimer: (handle: unknown) => void;
}

/** Sends a request to the Raft leader's lease service and returns its reply. */
export type Forwarder = (leader: NodeId, request: LeaseRequest, timeoutMs: number) => Promise<LeaseReply>;

/**
 * What the lease service publishes for the app processes on its host (the write gate reads it).
 * Times are absolute `process.hrtime` nanoseconds (CLOCK_MONOTONIC: the same clock for every
 * process on the host), as decimal strings.
 */
export interface PublishedLeaseState {
  readonly v: 1;
  readonly pid: number;
  /** This node's LiteFS hostname (settings.nodeId). */
  readonly node: string;
  readonly raftId: NodeId;
  readonly updatedNs: string;
  /** The session holding the lease key, or null when the key is free or absent. */
  readonly leaseSession: string | null;
  /** The hostname the lease key's value names, or null. */
  readonly primary: string | null;
  /** True when the lease key is held by a session this node's LiteFS created or renewed here. */
  readonly holder: boolean;
  /** The service found this node's lease unsafe; it answers the next renew with 404. */
  readonly refused: boolean;
  /** When holder: the session's renew deadline (last quorum-confirmed renew + TTL); else null. */
  readonly deadlineNs: string | null;
  /** Start of the last ReadIndex round the cluster confirmed (quorum contact); null before any. */
  readonly contactNs: string | null;
  /** Quorum contact older than this means split brain for a primary. */
  readonly graceMs: number;
  readonly raft: { readonly term: number; readonly role: RaftRole; readonly leader: NodeId | null };
}

/**
 * Switches that turn one lease safety rule off, for the simulator's mutation checks, and the two
 * numbers those checks vary (ttlMultiplier, memberSilenceMarginMs). They are in shipped code because
 * a mutation check must weaken the very LeaseService that ships (a test-only copy would prove
 * nothing about it); they are injected per instance (LeaseServiceOptions.knobs), are in no setting
 * and not in the package's exports, and production always runs SAFE_LEASE_KNOBS.
 */
export interface LeaseKnobs {
  /** Renew confirms leadership through ReadIndex before answering 200. */
  readonly renewReadIndex: boolean;
  /** Sessions expire after this many TTLs without renew (Consul: 2). */
  readonly ttlMultiplier: number;
  /** A new leader restarts every session's timer at now + multiplier x TTL (otherwise: expires at once). */
  readonly resetTimersOnLeaderChange: boolean;
  /** Lock-delay blocks re-acquire after invalidation. */
  readonly lockDelay: boolean;
  /**
   * The leader invalidates a session whose holder member has been silent for longer than its
   * write-gate grace + this margin (ms); null = never (sessions end by TTL only).
   */
  readonly memberSilenceMarginMs: number | null;
  /** A member-silence end applies only while the judged member still holds the session. */
  readonly silenceEndChecksHolder: boolean;
}

export const SAFE_LEASE_KNOBS: LeaseKnobs = Object.freeze({
  renewReadIndex: true,
  ttlMultiplier: 2,
  resetTimersOnLeaderChange: true,
  lockDelay: true,
  memberSilenceMarginMs: 500,
  silenceEndChecksHolder: true,
});
