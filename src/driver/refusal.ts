// LiteFS refuses writes on a replica at the FUSE layer; SQLite then reports a generic I/O or
// read-only error, late (often at COMMIT). When one of those reaches us and the gate, asked again,
// says this node may not write, the user gets a NotPrimaryError (original error as `cause`)
// instead of "disk I/O error".
//
// One more LiteFS failure is translated here: SQLITE_PROTOCOL on a connection that outlived a
// restart of LiteFS (StaleConnectionError). The database remembers it, and every later guarded
// use fails at once with the same advice instead of hanging another 10 s inside SQLite.

import { NotPrimaryError, SplitBrainError, StaleConnectionError } from "../errors.js";
import type { WriteGate } from "../node/gate.js";

/** SQLite error codes LiteFS produces when it refuses a write (litefs-contract.md). */
export function isLiteFSRefusalCode(code: unknown): boolean {
  return typeof code === "string" && (code === "SQLITE_IOERR_WRITE" || code.startsWith("SQLITE_READONLY"));
}

/**
 * SQLite's error for a connection whose files belong to a LiteFS mount that was replaced (LiteFS
 * restarted under it): the WAL lock protocol fails after about 10 s of retries.
 */
function isStaleConnectionCode(code: unknown): boolean {
  return code === "SQLITE_PROTOCOL";
}

/**
 * Returns the error to throw for `error`, raised while running a statement on a database guarded
 * by `gate`: a NotPrimaryError when it is a LiteFS refusal and the node is not writable,
 * otherwise `error` itself.
 */
export function translateRefusal(gate: WriteGate, error: unknown): unknown {
  if (error === null || typeof error !== "object" || !isLiteFSRefusalCode((error as { code?: unknown }).code)) {
    return error;
  }
  try {
    // A gate that caches its verdict must not answer this from the cache: LiteFS just refused.
    gate.invalidate?.();
    gate.assertWritable();
  } catch (gateError) {
    return refusedByLiteFS(gateError, error);
  }
  // Writable, so this is not LiteFS refusing a replica write (e.g. a database opened readonly).
  return error;
}

function refusedByLiteFS(gateError: unknown, original: unknown): NotPrimaryError {
  const code = (original as { code?: unknown }).code;
  const message = original instanceof Error ? original.message : String(original);
  let nodeId: string | null = null;
  let primary: string | null = null;
  if (gateError instanceof NotPrimaryError || gateError instanceof SplitBrainError) {
    nodeId = gateError.nodeId;
    primary = gateError.primary;
  }
  return new NotPrimaryError(
    { nodeId, primary, reason: "litefs-refused", detail: `SQLite reported ${String(code)} "${message}"` },
    { cause: original },
  );
}

/** Where refusals are reported: a GuardedDatabase (its gate, and the hook metrics count with). */
export interface RefusalHost {
  readonly gate: WriteGate;
  /** Called with every error that refuses a statement; null when nobody listens. */
  readonly onRefusal: ((error: unknown) => void) | null;
  /** The database file (better-sqlite3's `name`). */
  readonly name: string;
  /** The SQLITE_PROTOCOL error that showed this connection outlived a LiteFS restart; null until then. */
  staleConnectionCause: unknown;
}

/** What the statement and transaction guards need from their database (a GuardedDatabase). */
export interface GuardHost extends RefusalHost {
  readonly inTransaction: boolean;
  /**
   * True when a write may be pending in the open transaction: set by every guarded execution
   * (outside transactions too), cleared when a transaction begins. Never false while the open
   * transaction holds a write, so a COMMIT/END/RELEASE that sees false ends a read transaction.
   */
  writeMayBePending: boolean;
  /** Rolls back the open transaction after its COMMIT/END/RELEASE was refused. */
  rollBackRefusedTransaction(): void;
}

/** `gate.assertWritable()` for a statement about to run: a refusal is reported, then thrown. */
export function assertWritableFor(host: RefusalHost): void {
  if (host.staleConnectionCause !== null)
    throw new StaleConnectionError(host.name, { cause: host.staleConnectionCause });
  try {
    host.gate.assertWritable();
  } catch (error) {
    if (host.onRefusal !== null) host.onRefusal(error);
    throw error;
  }
}

/**
 * translateRefusal for an error raised by a statement of `host`; reported when it became a
 * refusal here (an error the gate threw earlier was reported where it was thrown). SQLITE_PROTOCOL
 * becomes a StaleConnectionError, and the host remembers it.
 */
export function translateRefusalFor(host: RefusalHost, error: unknown): unknown {
  if (error !== null && typeof error === "object" && isStaleConnectionCode((error as { code?: unknown }).code)) {
    host.staleConnectionCause = error;
    return new StaleConnectionError(host.name, { cause: error });
  }
  const translated = translateRefusal(host.gate, error);
  if (translated !== error && host.onRefusal !== null) host.onRefusal(translated);
  return translated;
}
