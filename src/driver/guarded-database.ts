// A better-sqlite3 Database that refuses writes this node may not make: the one place where SQL
// meets the WriteGate. Every ORM entry (Drizzle, Prisma) sits on it.
//
// Guarded entry points, all checked at EXECUTION time (a statement prepared on a primary may run
// after the node became a replica):
// - prepare(): classified once (classify.ts); mutating statements get a guarded prototype
//   (guarded-statement.ts) for run/get/all/iterate, kept by raw()/bind()/pluck()/expand().
//   COMMIT/END/RELEASE of a transaction that may have written asks the gate again.
// - exec(): treated as mutating (it runs arbitrary scripts).
// - pragma(): classified like a prepared PRAGMA; writes guarded, reads pass.
// - transaction(): BEGIN IMMEDIATE when writable, BEGIN DEFERRED otherwise (guarded-transaction.ts).
// Whatever path ends a transaction that wrote, a refusal there rolls the transaction back.
// LiteFS refusals that slip through become NotPrimaryError (refusal.ts); SQLITE_PROTOCOL (the
// connection outlived a LiteFS restart) becomes StaleConnectionError.

import { existsSync } from "node:fs";
import BetterSqlite3 from "better-sqlite3";
import { LiteFSError, NotPrimaryError, SplitBrainError } from "../errors.js";
import type { WriteGate } from "../node/gate.js";
import { classifyStatement, isGuardedKind } from "./classify.js";
import { applyStatementGuard } from "./guarded-statement.js";
import {
  guardedTransaction,
  TRANSACTION_SQL,
  type TransactionFunction,
  type TransactionHost,
  type TransactionStatements,
} from "./guarded-transaction.js";
import { assertWritableFor, translateRefusalFor, type GuardHost } from "./refusal.js";

export interface GuardedDatabaseOptions {
  /** Who may write. Dev mode: `alwaysWritableGate`. */
  gate: WriteGate;
  /** SQLite busy timeout in ms (how long a writer waits for the lock). Default 5000. */
  busyTimeoutMs?: number;
  /** Open the connection read-only (SQLITE_OPEN_READONLY). Default false. */
  readonly?: boolean;
  /** Fail if the file does not exist. Always on when the node is not writable at open. */
  fileMustExist?: boolean;
  /** better-sqlite3's `verbose` hook (called with each statement's SQL). */
  verbose?: (message?: unknown, ...additionalArgs: unknown[]) => void;
  /** better-sqlite3's `nativeBinding` option (path to, or the loaded, addon). */
  nativeBinding?: string | object;
  /**
   * Called with each NotPrimaryError/SplitBrainError that refuses a statement (not with the
   * gate's answers to isWritable() probes). openGuardedDatabase counts them in the metrics.
   */
  onRefusal?: (error: unknown) => void;
}

export const DEFAULT_BUSY_TIMEOUT_MS = 5000;

export class GuardedDatabase extends BetterSqlite3 implements TransactionHost, GuardHost {
  readonly gate: WriteGate;
  readonly onRefusal: ((error: unknown) => void) | null;
  /** @internal See GuardHost.writeMayBePending (refusal.ts). */
  writeMayBePending = false;
  /** @internal See RefusalHost.staleConnectionCause (refusal.ts). */
  staleConnectionCause: unknown = null;
  #transactionStatements: TransactionStatements | null = null;

  constructor(filename: string, options: GuardedDatabaseOptions) {
    const checked = checkOptions(filename, options);
    const refusalAtOpen = gateRefusal(checked.gate);
    const writableAtOpen = refusalAtOpen === null;
    const inMemory = isInMemory(filename);
    // Only the primary may create the database (LiteFS refuses file creation on a replica with an
    // opaque error): say so clearly before SQLite tries. When the node is not a plain replica
    // (split brain, or it cannot tell its role), the gate's own error says what is wrong.
    if (!writableAtOpen && !inMemory && !existsSync(filename)) throw missingFile(filename, refusalAtOpen);
    super(filename, {
      readonly: checked.readonly,
      fileMustExist: checked.fileMustExist || (!writableAtOpen && !inMemory),
      timeout: checked.busyTimeoutMs,
      ...(options.verbose ? { verbose: options.verbose } : {}),
      ...(options.nativeBinding !== undefined ? { nativeBinding: options.nativeBinding as string } : {}),
    });
    this.gate = checked.gate;
    this.onRefusal = options.onRefusal ?? null;
    try {
      if (!inMemory) this.#setUpJournal(filename, writableAtOpen, checked.readonly);
      // Connection-local settings: they bypass the guard (super.pragma prepares natively).
      super.pragma("foreign_keys = ON");
    } catch (error) {
      this.close();
      throw error;
    }
  }

  /** `gate.assertWritable()` without throwing: true when this node may write now on this connection. */
  isWritable(): boolean {
    return this.staleConnectionCause === null && gateRefusal(this.gate) === null;
  }

  // The same type parameters as better-sqlite3's Database.prepare, which this overrides.
  // eslint-disable-next-line @typescript-eslint/no-empty-object-type
  override prepare<BindParameters extends unknown[] | {} = unknown[], Result = unknown>(
    source: string,
  ): BetterSqlite3.Statement<BindParameters, Result> {
    const stmt = super.prepare<BindParameters, Result>(source);
    return applyStatementGuard(stmt, classifyStatement(stmt));
  }

  /**
   * Runs a script. Treated as mutating: refused unless this node is writable. A refused script
   * inside a transaction that may have written rolls that transaction back: the script may hold
   * its COMMIT, and telling would mean parsing SQL.
   */
  override exec(source: string): this {
    try {
      assertWritableFor(this);
    } catch (error) {
      if (this.writeMayBePending && this.inTransaction) this.rollBackRefusedTransaction();
      throw error;
    }
    this.writeMayBePending = true;
    try {
      super.exec(source);
    } catch (error) {
      throw translateRefusalFor(this, error);
    }
    return this;
  }

  /** `db.pragma("x")` / `db.pragma("x = y")`: classified like `PRAGMA ...`; writes guarded. */
  override pragma(source: string, options?: BetterSqlite3.PragmaOptions): unknown {
    if (typeof source !== "string") throw new TypeError("Expected first argument to be a string");
    // Prepared only to ask SQLite what it does; the real call below uses better-sqlite3's pragma
    // mode (which lets setting-pragmas return []).
    const guarded = isGuardedKind(classifyStatement(super.prepare(`PRAGMA ${source}`)));
    if (guarded) {
      assertWritableFor(this);
      this.writeMayBePending = true;
    }
    try {
      return super.pragma(source, options);
    } catch (error) {
      throw translateRefusalFor(this, error);
    }
  }

  override transaction<F extends TransactionFunction>(fn: F): BetterSqlite3.Transaction<F> {
    return guardedTransaction(this, fn);
  }

  /** @internal GuardHost: a COMMIT/END/RELEASE was refused; nothing of the transaction may land. */
  rollBackRefusedTransaction(): void {
    try {
      if (this.inTransaction) this.transactionStatements().rollback.run();
    } catch {
      // The refusal is the error to report. Should the rollback fail (e.g. a statement still
      // iterating), the transaction stays open, and its COMMIT is still checked.
    }
  }

  /** @internal The control statements of transaction(), prepared once, unguarded. */
  transactionStatements(): TransactionStatements {
    if (this.#transactionStatements === null) {
      const prepare = (sql: string) => super.prepare(sql);
      this.#transactionStatements = {
        beginImmediate: prepare(TRANSACTION_SQL.beginImmediate),
        beginDeferred: prepare(TRANSACTION_SQL.beginDeferred),
        commit: prepare(TRANSACTION_SQL.commit),
        rollback: prepare(TRANSACTION_SQL.rollback),
        savepoint: prepare(TRANSACTION_SQL.savepoint),
        release: prepare(TRANSACTION_SQL.release),
        rollbackTo: prepare(TRANSACTION_SQL.rollbackTo),
      };
    }
    return this.#transactionStatements;
  }

  // LiteFS replicates WAL databases only; switching a replicated database out of WAL crashed
  // replicas (litefs-contract.md). Writable: make it WAL. Replica: it must already be WAL.
  #setUpJournal(filename: string, writable: boolean, readonly: boolean): void {
    if (writable && !readonly) {
      const mode = String(super.pragma("journal_mode = WAL", { simple: true }));
      if (mode.toLowerCase() !== "wal") {
        throw new LiteFSError(
          "LITEFS_MOUNT",
          `could not switch ${filename} to WAL journal mode (SQLite says "${mode}")`,
        );
      }
      return;
    }
    const mode = String(super.pragma("journal_mode", { simple: true }));
    if (mode.toLowerCase() !== "wal") {
      throw new LiteFSError(
        "LITEFS_MOUNT",
        `${filename} is in "${mode}" journal mode, not WAL, and this node may not change it` +
          (writable ? " (opened read-only)" : " (it is not the primary)") +
          ": open the database on the primary first, which switches it to WAL",
      );
    }
  }
}

function checkOptions(
  filename: string,
  options: GuardedDatabaseOptions,
): { gate: WriteGate; busyTimeoutMs: number; readonly: boolean; fileMustExist: boolean } {
  if (typeof filename !== "string" || filename.trim() === "") {
    throw new TypeError(
      'GuardedDatabase: filename must be a non-empty string (use ":memory:" for an in-memory database)',
    );
  }
  if (options === null || typeof options !== "object") {
    throw new TypeError("GuardedDatabase: options with a `gate` are required");
  }
  const gate = options.gate;
  if (gate === null || typeof gate !== "object" || typeof gate.assertWritable !== "function") {
    throw new TypeError("GuardedDatabase: options.gate must be a WriteGate (an object with assertWritable())");
  }
  const busyTimeoutMs = options.busyTimeoutMs ?? DEFAULT_BUSY_TIMEOUT_MS;
  if (!Number.isInteger(busyTimeoutMs) || busyTimeoutMs < 0 || busyTimeoutMs > 0x7fffffff) {
    throw new TypeError(
      `GuardedDatabase: busyTimeoutMs must be an integer from 0 to 2147483647, got ${String(busyTimeoutMs)}`,
    );
  }
  return { gate, busyTimeoutMs, readonly: options.readonly === true, fileMustExist: options.fileMustExist === true };
}

/** What `gate.assertWritable()` throws now, or null when this node may write. */
function gateRefusal(gate: WriteGate): unknown {
  try {
    gate.assertWritable();
    return null;
  } catch (error) {
    return error ?? new Error("the write gate threw a nullish value");
  }
}

function isInMemory(filename: string): boolean {
  const name = filename.trim();
  return name === ":memory:" || name.startsWith("file::memory:");
}

function missingFile(filename: string, refusal: unknown): Error {
  if (refusal instanceof SplitBrainError || (refusal instanceof NotPrimaryError && refusal.reason === "unknown")) {
    return refusal;
  }
  return new LiteFSError(
    "LITEFS_MOUNT",
    `cannot open ${filename} on this node: it does not exist here and only the primary may create it ` +
      "(open it on the primary first; LiteFS then replicates it to this node)",
  );
}
