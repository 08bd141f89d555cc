// Typed errors of the Raft core. Kept apart from src/errors.ts because they describe consensus
// states (not LiteFS states); the lease service translates them for its HTTP answers. Guards check
// the code, not instanceof (the convention of src/errors.ts).
import { hasErrorCode } from "../error-brand.js";
import type { NodeId } from "./types.js";

export type RaftErrorCode = "RAFT_NOT_LEADER" | "RAFT_CONFIG" | "RAFT_USAGE" | "RAFT_INVARIANT";

export class RaftError extends Error {
  readonly code: RaftErrorCode;

  constructor(code: RaftErrorCode, message: string) {
    super(message);
    this.code = code;
    this.name = new.target.name;
  }
}

/** A proposal or read was given to a node that cannot serve it; `leader` is who to ask instead. */
export class NotLeaderError extends RaftError {
  readonly nodeId: NodeId;
  readonly leader: NodeId | null;

  constructor(nodeId: NodeId, leader: NodeId | null, what: string) {
    const where = leader === null ? "no leader is known" : `the leader is "${leader}"`;
    super("RAFT_NOT_LEADER", `raft node "${nodeId}" cannot ${what}: it is not the leader and ${where}`);
    this.nodeId = nodeId;
    this.leader = leader;
  }
}

/** Bad RaftConfig (names the setting) or an inconsistent restored state. */
export class RaftConfigError extends RaftError {
  constructor(message: string) {
    super("RAFT_CONFIG", message);
  }
}

/** The caller broke the Ready/advance contract or asked for something impossible (e.g. compacting past applied). */
export class RaftUsageError extends RaftError {
  constructor(message: string) {
    super("RAFT_USAGE", message);
  }
}

/** A safety rule would be broken (e.g. truncating a committed entry): the core refuses instead of corrupting. */
export class RaftInvariantError extends RaftError {
  constructor(message: string) {
    super("RAFT_INVARIANT", message);
  }
}

export function isNotLeaderError(e: unknown): e is NotLeaderError {
  return hasErrorCode(e, "RAFT_NOT_LEADER");
}

export function isRaftConfigError(e: unknown): e is RaftConfigError {
  return hasErrorCode(e, "RAFT_CONFIG");
}

export function isRaftUsageError(e: unknown): e is RaftUsageError {
  return hasErrorCode(e, "RAFT_USAGE");
}

export function isRaftInvariantError(e: unknown): e is RaftInvariantError {
  return hasErrorCode(e, "RAFT_INVARIANT");
}
