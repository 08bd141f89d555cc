// Data shapes shared by the Raft core, its storage, its transport and the simulator.
// Indexes and terms are plain numbers: they stay far below 2^53 for any real deployment.

export type NodeId = string;

export type EntryType = "normal" | "noop";

export interface Entry {
  readonly term: number;
  readonly index: number;
  readonly type: EntryType;
  /** Opaque state-machine command (empty for a leader's no-op). */
  readonly data: Uint8Array;
}

/** What must be durable before any message depending on it is sent. */
export interface HardState {
  readonly term: number;
  readonly vote: NodeId | null;
  readonly commit: number;
}

interface SnapshotMeta {
  readonly index: number;
  readonly term: number;
  /** Static membership the snapshot was taken under. */
  readonly voters: readonly NodeId[];
}

export interface Snapshot {
  readonly meta: SnapshotMeta;
  readonly data: Uint8Array;
}

export type MessageType =
  | "preVote"
  | "preVoteResp"
  | "vote"
  | "voteResp"
  | "app"
  | "appResp"
  | "heartbeat"
  | "heartbeatResp"
  | "snap"
  | "readIndex"
  | "readIndexResp"
  | "timeoutNow";

/** One Raft message. `clusterId` is checked on receipt: messages from another cluster are dropped. */
export interface Message {
  readonly type: MessageType;
  readonly clusterId: string;
  readonly from: NodeId;
  readonly to: NodeId;
  readonly term: number;
  /** app: prevLogIndex; appResp: matched or hinted index; vote/preVote: candidate's last log index. */
  readonly index: number;
  /** app: prevLogTerm; vote/preVote: candidate's last log term. */
  readonly logTerm: number;
  readonly entries: readonly Entry[];
  readonly commit: number;
  readonly reject: boolean;
  /** appResp on reject: the follower's last index, so the leader can skip back fast. */
  readonly rejectHint: number;
  readonly snapshot: Snapshot | null;
  /** readIndex / heartbeat round context, echoed back in the response. */
  readonly context: Uint8Array | null;
}

/** A linearizable read that may be served once `index` is applied. */
export interface ReadState {
  readonly index: number;
  readonly requestCtx: Uint8Array;
}
