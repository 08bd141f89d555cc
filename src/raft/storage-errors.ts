// Errors of the Raft storage layer. Kept apart so the log, the identity file and the storage
// facade can share them without importing each other.
import { hasErrorCode } from "../error-brand.js";

/**
 * - `missing`: the data directory is missing or empty and no bootstrap was requested (a node
 *   that lost its data must not rejoin under its old id).
 * - `mismatch`: the directory belongs to another node id or cluster id.
 * - `corrupt`: damaged or missing acknowledged data (not a torn tail): a damaged record before the
 *   acknowledged end, a log or snapshot shorter than what was acknowledged, a missing file.
 * - `locked`: another process holds the data directory.
 * - `invalid`: a caller bug (appending with a gap, and the like).
 */
export type RaftStorageErrorKind = "missing" | "mismatch" | "corrupt" | "locked" | "invalid";

export class RaftStorageError extends Error {
  readonly code = "RAFT_STORAGE";
  readonly kind: RaftStorageErrorKind;

  constructor(kind: RaftStorageErrorKind, message: string) {
    super(message);
    this.kind = kind;
    this.name = "RaftStorageError";
  }
}

/** True when `e` is a RaftStorageError (`kind` says which), by its code (works across package copies). */
export function isRaftStorageError(e: unknown): e is RaftStorageError {
  return hasErrorCode(e, "RAFT_STORAGE");
}

/** What every refusal of damaged or lost acknowledged data tells the operator to do. */
export const RECOVERY =
  'Refusing to start. To recover, remove this member\'s Raft data directory and add the member back as the README describes (raft mode, "Recovering a member").';
