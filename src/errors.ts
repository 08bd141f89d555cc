// Typed errors of litefs-node. This module imports only the brand: every layer may throw these.
//
// The convention, for every error the package throws: a stable `code` string, and an `isX()` guard
// that works across copies of the package (an app and a library may each load their own copy, so
// `instanceof` would answer false for an error of the other copy). Guards check the `code`, or, where
// two errors share a code (MigrationTimeoutError and the other LITEFS_TIMEOUTs), the class brand
// every LiteFSError carries (error-brand.ts).
// Fields that tell more (`reason`, `kind`, `failure`, `issues`...) stay beside the code.
import { ERROR_BRAND, hasErrorCode, litefsErrorClass } from "./error-brand.js";

export type LiteFSErrorCode =
  | "LITEFS_NOT_PRIMARY"
  | "LITEFS_SPLIT_BRAIN"
  | "LITEFS_CONFIG"
  | "LITEFS_MOUNT"
  | "LITEFS_API"
  | "LITEFS_MIGRATION"
  | "LITEFS_TIMEOUT"
  | "LITEFS_HANDOFF"
  | "LITEFS_STALE_CONNECTION";

/** Base class: every error this library throws on purpose has a stable `code`. */
export class LiteFSError extends Error {
  readonly code: LiteFSErrorCode;
  declare readonly [ERROR_BRAND]: string;

  constructor(code: LiteFSErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
    Object.defineProperty(this, ERROR_BRAND, { value: new.target.name, enumerable: false });
  }
}

/** True when `e` is a LiteFSError (any of this package's LITEFS_* errors), from any copy of the package. */
export function isLiteFSError(e: unknown): e is LiteFSError {
  return litefsErrorClass(e) !== null;
}

/**
 * Why a write was refused on this node:
 * - `replica`: LiteFS says another node is primary.
 * - `no-primary`: this node is a replica that knows no primary (primary down, partition).
 * - `unknown`: the node's state cannot be read (no mount, unreadable files); we fail closed.
 * - `litefs-refused`: LiteFS itself refused a write that reached it (translated I/O error).
 */
export type NotPrimaryReason = "replica" | "no-primary" | "unknown" | "litefs-refused" | "handoff";

export class NotPrimaryError extends LiteFSError {
  /** This node's id (`nodeId` setting), or null when unknown. */
  readonly nodeId: string | null;
  /** Hostname of the current primary, or null when no primary is known. */
  readonly primary: string | null;
  readonly reason: NotPrimaryReason;

  constructor(
    details: { nodeId: string | null; primary: string | null; reason: NotPrimaryReason; detail?: string },
    options?: { cause?: unknown },
  ) {
    super("LITEFS_NOT_PRIMARY", notPrimaryMessage(details), options);
    this.nodeId = details.nodeId;
    this.primary = details.primary;
    this.reason = details.reason;
  }
}

function notPrimaryMessage(d: {
  nodeId: string | null;
  primary: string | null;
  reason: NotPrimaryReason;
  detail?: string;
}): string {
  const self = d.nodeId ? `node "${d.nodeId}"` : "this node";
  const where = d.primary ? `; the primary is "${d.primary}"` : "; no primary is known";
  const head: Record<NotPrimaryReason, string> = {
    replica: `${self} is a LiteFS replica and cannot write`,
    "no-primary": `${self} is a LiteFS replica that has lost its primary and cannot write`,
    unknown: `${self} cannot tell whether it is the LiteFS primary, so writes are refused`,
    "litefs-refused": `LiteFS refused a write on ${self} because it is not the primary`,
    handoff: `${self} is handing the primary over (planned handoff) and refuses writes until it is done`,
  };
  return head[d.reason] + where + (d.detail ? ` (${d.detail})` : "") + ": send writes to the primary";
}

export class SplitBrainError extends LiteFSError {
  readonly nodeId: string | null;
  /** The node the election says is primary, or null when it names none. */
  readonly primary: string | null;
  /** What disagrees, in words (e.g. "LiteFS says primary but primaryHostname is node-a"). */
  readonly reason: string;

  constructor(
    details: { nodeId: string | null; primary: string | null; reason: string },
    options?: { cause?: unknown },
  ) {
    const self = details.nodeId ? `node "${details.nodeId}"` : "this node";
    super(
      "LITEFS_SPLIT_BRAIN",
      `split brain on ${self}: ${details.reason}; writes are refused until LiteFS and the election agree`,
      options,
    );
    this.nodeId = details.nodeId;
    this.primary = details.primary;
    this.reason = details.reason;
  }
}

/**
 * A database connection that outlived a restart of this node's LiteFS: its open files belong to
 * the old FUSE mount, so SQLite's WAL locking fails (each write hangs about 10 s inside SQLite,
 * then SQLITE_PROTOCOL "locking protocol"). The connection cannot recover; a new one can.
 */
export class StaleConnectionError extends LiteFSError {
  /** The database file of the stale connection. */
  readonly database: string;

  constructor(database: string, options?: { cause?: unknown }) {
    super(
      "LITEFS_STALE_CONNECTION",
      `the connection to ${database} outlived a restart of LiteFS (SQLite reported SQLITE_PROTOCOL "locking protocol": ` +
        "its open files belong to the old LiteFS mount), and it cannot recover: close it and open the database again " +
        "(Drizzle: $client.close(), then a new drizzle({ node }); Prisma: await prisma.$disconnect(), and the next query " +
        "opens a new connection). If the old mount is still listed, unmount it lazily: fusermount3 -uz <mount dir>",
      options,
    );
    this.database = database;
  }
}

/** One problem with one setting. `env` is the environment variable that feeds it, if any. */
export interface ConfigIssue {
  readonly setting: string;
  readonly env: string | null;
  readonly message: string;
}

export class ConfigError extends LiteFSError {
  readonly issues: readonly ConfigIssue[];

  constructor(issues: readonly ConfigIssue[]) {
    const lines = issues.map((i) => `  - ${i.setting}${i.env ? ` (${i.env})` : ""}: ${i.message}`);
    super("LITEFS_CONFIG", `invalid litefs-node settings:\n${lines.join("\n")}`);
    this.issues = Object.freeze([...issues]);
  }
}

// ORMs wrap driver errors (Drizzle's DrizzleQueryError, Prisma's request errors); walk every
// link we know of, bounded so a cyclic chain cannot loop forever.
const MAX_DEPTH = 16;

function findCode(error: unknown, code: LiteFSErrorCode): boolean {
  let current: unknown = error;
  const seen = new Set<unknown>();
  for (let depth = 0; depth < MAX_DEPTH && current != null && typeof current === "object"; depth++) {
    if (seen.has(current)) return false;
    seen.add(current);
    const candidate = current as { code?: unknown; cause?: unknown; meta?: unknown; name?: unknown };
    if (candidate.code === code) return true;
    // Prisma surfaces an adapter error's original cause under `meta` on some error classes.
    const meta = candidate.meta as { cause?: unknown; driverAdapterError?: unknown } | undefined;
    current = candidate.cause ?? meta?.driverAdapterError ?? meta?.cause;
  }
  return false;
}

/** True when `e` is, or wraps (through `cause` chains and ORM wrappers), a NotPrimaryError. */
export function isNotPrimaryError(e: unknown): boolean {
  return findCode(e, "LITEFS_NOT_PRIMARY");
}

/** True when `e` is, or wraps, a SplitBrainError. */
export function isSplitBrainError(e: unknown): boolean {
  return findCode(e, "LITEFS_SPLIT_BRAIN");
}

/** True when `e` is a ConfigError (invalid settings; `issues` lists them). */
export function isConfigError(e: unknown): e is ConfigError {
  return hasErrorCode(e, "LITEFS_CONFIG");
}

/** True when `e` is, or wraps, a StaleConnectionError (reopen the database). */
export function isStaleConnectionError(e: unknown): boolean {
  return findCode(e, "LITEFS_STALE_CONNECTION");
}
