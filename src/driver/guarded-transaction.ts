// `db.transaction(fn)` for a GuardedDatabase.
//
// better-sqlite3 prepares BEGIN/COMMIT/... internally (not through the public prepare), so a
// subclass must provide its own transaction(). Ours differs from stock in one way: the variant
// (default, deferred, immediate, exclusive) does not choose the BEGIN; the node does.
// - Writable node: BEGIN IMMEDIATE, whatever was asked. Drizzle asks for "deferred" by default, and
//   a deferred transaction that later writes can fail with SQLITE_BUSY instead of waiting.
//   Before COMMIT the gate is asked again: a node demoted while the function ran rolls back
//   instead of committing (LiteFS would refuse the commit anyway, with "disk I/O error"; in split
//   brain it would not).
// - Not writable: BEGIN DEFERRED, a read transaction: reads work, and the first mutating statement
//   inside is refused by its own guard (checked at execution). Should the node be promoted while
//   the function runs and a write get through, the COMMIT is checked too.
// A connection that outlived a LiteFS restart (StaleConnectionError) refuses even a read
// transaction: its reads would hang inside SQLite too.
// Nested calls use a savepoint, as stock does.

import type BetterSqlite3 from "better-sqlite3";
import { StaleConnectionError } from "../errors.js";
import { assertWritableFor, translateRefusalFor, type GuardHost } from "./refusal.js";
import { commitOrRollback, type TransactionEnd } from "./commit-or-rollback.js";

/** The function type better-sqlite3's transaction() accepts (its own constraint, reused). */
export type TransactionFunction = Parameters<BetterSqlite3.Database["transaction"]>[0];

interface Runnable {
  run(): unknown;
}

/** Control statements, prepared once per database, unguarded (the logic here is the guard). */
export interface TransactionStatements {
  readonly beginImmediate: Runnable;
  readonly beginDeferred: Runnable;
  readonly commit: Runnable;
  readonly rollback: Runnable;
  readonly savepoint: Runnable;
  readonly release: Runnable;
  readonly rollbackTo: Runnable;
}

/** The savepoint name of nested transactions; quoted and odd so it cannot clash with a user's. */
const NESTED_SAVEPOINT = '"\tlitefs-node.nested\t"';

/** The SQL of each control statement. */
export const TRANSACTION_SQL: { readonly [K in keyof TransactionStatements]: string } = {
  beginImmediate: "BEGIN IMMEDIATE",
  beginDeferred: "BEGIN DEFERRED",
  commit: "COMMIT",
  rollback: "ROLLBACK",
  savepoint: `SAVEPOINT ${NESTED_SAVEPOINT}`,
  release: `RELEASE ${NESTED_SAVEPOINT}`,
  rollbackTo: `ROLLBACK TO ${NESTED_SAVEPOINT}`,
};

/** What the transaction needs from its database. */
export interface TransactionHost extends GuardHost {
  isWritable(): boolean;
  transactionStatements(): TransactionStatements;
}

/** Builds the function db.transaction(fn) returns; `.default/.deferred/.immediate/.exclusive` are itself. */
export function guardedTransaction<F extends TransactionFunction>(
  host: TransactionHost,
  fn: F,
): BetterSqlite3.Transaction<F> {
  if (typeof fn !== "function") throw new TypeError("Expected first argument to be a function");
  const transaction = function guardedTransactionRun(this: unknown): unknown {
    // eslint-disable-next-line prefer-rest-params
    return runTransaction(host, fn, this, arguments);
  } as unknown as BetterSqlite3.Transaction<F> & { database: TransactionHost };
  // One function serves every variant: the node, not the variant, picks BEGIN (see above).
  transaction.default = transaction;
  transaction.deferred = transaction;
  transaction.immediate = transaction;
  transaction.exclusive = transaction;
  transaction.database = host;
  return transaction;
}

function runTransaction(host: TransactionHost, fn: TransactionFunction, self: unknown, args: IArguments): unknown {
  const statements = host.transactionStatements();
  if (host.inTransaction) return runInSavepoint(host, statements, fn, self, args);

  if (host.staleConnectionCause !== null)
    throw new StaleConnectionError(host.name, { cause: host.staleConnectionCause });
  const writable = host.isWritable();
  try {
    (writable ? statements.beginImmediate : statements.beginDeferred).run();
  } catch (error) {
    throw translateRefusalFor(host, error);
  }
  // BEGIN IMMEDIATE holds the write lock: treat it as a write transaction from the start.
  host.writeMayBePending = writable;
  const end: TransactionEnd = {
    commit: () => statements.commit.run(),
    rollback: () => statements.rollback.run(),
    isOpen: () => host.inTransaction,
  };
  try {
    return commitOrRollback(end, () => {
      const result = fn.apply(self, args as unknown as unknown[]);
      rejectPromise(result);
      if (host.writeMayBePending) assertWritableFor(host);
      return result;
    });
  } catch (error) {
    throw translateRefusalFor(host, error);
  }
}

function runInSavepoint(
  host: TransactionHost,
  statements: TransactionStatements,
  fn: TransactionFunction,
  self: unknown,
  args: IArguments,
): unknown {
  statements.savepoint.run();
  try {
    const result = fn.apply(self, args as unknown as unknown[]);
    rejectPromise(result);
    statements.release.run();
    return result;
  } catch (error) {
    if (host.inTransaction) {
      statements.rollbackTo.run();
      statements.release.run();
    }
    throw error;
  }
}

function rejectPromise(result: unknown): void {
  if (result !== null && typeof result === "object" && typeof (result as { then?: unknown }).then === "function") {
    throw new TypeError("Transaction function cannot return a promise");
  }
}
