// Errors of the Raft storage layer. Kept apart so the log, the identity file and the storage
// facade can share them without importing each other.

/**
 * - `missing`: the data directory is missing or empty and no bootstrap was requested (a node
 *   that lost its data must not rejoin under its old id).
 * - `mismatch`: the directory belongs to another node id or cluster id.
 * - `corrupt`: damaged acknowledged data (not a torn tail).
 * - `invalid`: a caller bug (appending with a gap, and the like).
 */
export type RaftStorageErrorKind = "missing" | "mismatch" | "corrupt" | "invalid";

export class RaftStorageError extends Error {
  readonly kind: RaftStorageErrorKind;

  constructor(kind: RaftStorageErrorKind, message: string) {
    super(message);
    this.kind = kind;
    this.name = "RaftStorageError";
  }
}
