// Errors of the migration appliers. Both extend LiteFSError; their guards work across copies of the
// package (no instanceof): MigrationError by its code, MigrationTimeoutError by its brand, since its
// code, LITEFS_TIMEOUT, is shared with the other timeouts (src/errors.ts says the convention).
import { hasErrorCode, litefsErrorClass } from "../src/error-brand.js";
import { LiteFSError } from "../src/errors.js";

/**
 * Why migrations were not applied:
 * - `invalid-folder`: the migrations folder is missing or malformed (journal, file, directory).
 * - `failed`: a migration's SQL failed here; its transaction was rolled back.
 * - `blocked-by-failed`: a failed migration is recorded (Prisma); nothing runs until it is resolved.
 * - `checksum-mismatch`: an applied migration's file changed since it was applied (Prisma).
 * - `not-empty`: Prisma bookkeeping would start on a database that already has tables (P3005).
 * - `failed-on-primary`: a replica waiting for a migration saw it recorded as failed.
 */
export type MigrationErrorKind =
  "invalid-folder" | "failed" | "blocked-by-failed" | "checksum-mismatch" | "not-empty" | "failed-on-primary";

export class MigrationError extends LiteFSError {
  readonly kind: MigrationErrorKind;
  /** The migration concerned (drizzle tag or Prisma folder name), when there is one. */
  readonly migration: string | null;

  constructor(kind: MigrationErrorKind, migration: string | null, message: string, options?: { cause?: unknown }) {
    super("LITEFS_MIGRATION", message, options);
    this.kind = kind;
    this.migration = migration;
  }
}

/** A replica waited `timeoutMs` and the replicated database still lacks `missing`. */
export class MigrationTimeoutError extends LiteFSError {
  /** Migrations of the folder not (yet) recorded in this node's database, oldest first. */
  readonly missing: readonly string[];
  readonly timeoutMs: number;

  constructor(details: {
    missing: readonly string[];
    timeoutMs: number;
    nodeId: string | null;
    lastProblem: string | null;
  }) {
    const self = details.nodeId ? `node "${details.nodeId}"` : "this node";
    const names = details.missing.length > 0 ? details.missing.map((m) => `"${m}"`).join(", ") : "(unknown)";
    super(
      "LITEFS_TIMEOUT",
      `timed out after ${details.timeoutMs} ms waiting on ${self} for migration ${names} to replicate from the primary` +
        (details.lastProblem ? ` (last check: ${details.lastProblem})` : "") +
        ": check that the primary ran its migrations and that replication is healthy",
    );
    this.missing = Object.freeze([...details.missing]);
    this.timeoutMs = details.timeoutMs;
  }
}

/** True when `e` is a MigrationError (`kind` says why), from any copy of the package. */
export function isMigrationError(e: unknown): e is MigrationError {
  return hasErrorCode(e, "LITEFS_MIGRATION");
}

/** True when `e` is a MigrationTimeoutError (`missing` lists what did not arrive), from any copy of the package. */
export function isMigrationTimeoutError(e: unknown): e is MigrationTimeoutError {
  return litefsErrorClass(e) === "MigrationTimeoutError";
}
