// The SqlDriverAdapter Prisma talks to, and its interactive transactions.
//
// One connection, one FIFO lock over every operation. A transaction holds the lock from its
// BEGIN until commit()/rollback(); a query outside it queues behind it instead of running inside
// it and being rolled back with it. better-sqlite3 is synchronous, so a query that finds the lock
// free runs to completion without taking it: nothing can interleave with synchronous code.
import {
  DriverAdapterError,
  type ConnectionInfo,
  type IsolationLevel,
  type SqlDriverAdapter,
  type SqlQuery,
  type SqlResultSet,
  type Transaction,
  type TransactionOptions,
} from "@prisma/driver-adapter-utils";
import type { Connection } from "./connection.js";
import { FifoMutex, type Release } from "./fifo-mutex.js";
import { isGuardRefusal, toAdapterError } from "./error-mapping.js";
import { commitOrRollback } from "../commit-or-rollback.js";

export const ADAPTER_NAME = "litefs-node";

// With usePhantomQuery false, Prisma itself sends COMMIT / ROLLBACK through tx.executeRaw and
// then calls commit()/rollback() as lifecycle callbacks.
const TRANSACTION_OPTIONS: TransactionOptions = Object.freeze({ usePhantomQuery: false });

// Prisma names savepoints `prisma_sp_<n>`; anything else is refused rather than spliced into SQL.
const SAVEPOINT_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

export class LiteFSPrismaAdapter implements SqlDriverAdapter {
  readonly provider = "sqlite" as const;
  readonly adapterName = ADAPTER_NAME;
  readonly #connection: Connection;
  readonly #mutex = new FifoMutex();
  readonly #onDispose: () => Promise<void>;
  #disposed = false;

  constructor(connection: Connection, onDispose: () => Promise<void> = () => Promise.resolve()) {
    this.#connection = connection;
    this.#onDispose = onDispose;
  }

  queryRaw(query: SqlQuery): Promise<SqlResultSet> {
    return this.#exclusive(() => this.#connection.query(query));
  }

  executeRaw(query: SqlQuery): Promise<number> {
    return this.#exclusive(() => this.#connection.execute(query));
  }

  executeScript(script: string): Promise<void> {
    return this.#exclusive(() => this.#connection.script(script));
  }

  async startTransaction(isolationLevel?: IsolationLevel): Promise<Transaction> {
    // SQLite transactions are serializable; anything weaker cannot be honoured, so say so.
    if (isolationLevel !== undefined && isolationLevel !== "SERIALIZABLE") {
      throw new DriverAdapterError({ kind: "InvalidIsolationLevel", level: isolationLevel });
    }
    this.#assertOpen();
    const release = this.#mutex.tryAcquire() ?? (await this.#mutex.acquire());
    try {
      this.#assertOpen();
      const connection = this.#connection;
      // Writable node: take the write lock now, so a later write cannot fail with SQLITE_BUSY
      // halfway through. Replica: a read transaction; its first write is refused by the guard.
      if (!connection.db.isWritable()) {
        connection.run("BEGIN DEFERRED");
      } else {
        try {
          connection.run("BEGIN IMMEDIATE");
        } catch (error) {
          // Demoted between the check and BEGIN: a read transaction, as on any replica.
          if (!isGuardRefusal(error)) throw error;
          connection.run("BEGIN DEFERRED");
        }
      }
    } catch (error) {
      // The official adapter leaks its mutex here; every later transaction then times out.
      release();
      throw error;
    }
    return new LiteFSPrismaTransaction(this.#connection, release);
  }

  getConnectionInfo(): ConnectionInfo {
    return { maxBindValues: this.#connection.maxBindValues(), supportsRelationJoins: false };
  }

  async dispose(): Promise<void> {
    if (this.#disposed) return;
    // Let whatever holds or awaits the lock finish first; nothing can queue after us.
    const release = await this.#mutex.acquire();
    try {
      if (this.#disposed) return;
      this.#disposed = true;
      const db = this.#connection.db;
      if (db.open) {
        if (db.inTransaction) this.#connection.run("ROLLBACK");
        db.close();
      }
      await this.#onDispose();
    } finally {
      release();
    }
  }

  #exclusive<T>(work: () => T): Promise<T> {
    if (!this.#mutex.locked) {
      // Free lock means nobody waits either: run now, synchronously, atomically.
      try {
        this.#assertOpen();
        return Promise.resolve(work());
      } catch (error) {
        return Promise.reject(error);
      }
    }
    return this.#mutex.acquire().then((release) => {
      try {
        this.#assertOpen();
        return work();
      } finally {
        release();
      }
    });
  }

  #assertOpen(): void {
    if (this.#disposed || !this.#connection.db.open) throw new DriverAdapterError({ kind: "ConnectionClosed" });
  }
}

export class LiteFSPrismaTransaction implements Transaction {
  readonly provider = "sqlite" as const;
  readonly adapterName = ADAPTER_NAME;
  readonly options = TRANSACTION_OPTIONS;
  readonly #connection: Connection;
  #release: Release | null;

  constructor(connection: Connection, release: Release) {
    this.#connection = connection;
    this.#release = release;
  }

  queryRaw(query: SqlQuery): Promise<SqlResultSet> {
    return this.#inTransaction(() => this.#connection.query(query));
  }

  executeRaw(query: SqlQuery): Promise<number> {
    return this.#inTransaction(() => this.#connection.execute(query));
  }

  /** Prisma has already sent COMMIT through executeRaw; this ends the transaction's hold on the lock. */
  async commit(): Promise<void> {
    this.#finish(() => {
      // Only if the caller skipped the COMMIT statement: complete it here rather than leaving
      // the connection inside a transaction for the next lock holder.
      const connection = this.#connection;
      if (!connection.db.inTransaction) return;
      commitOrRollback(
        {
          commit: () => connection.run("COMMIT"),
          rollback: () => connection.run("ROLLBACK"),
          isOpen: () => connection.db.inTransaction,
        },
        () => undefined,
      );
    });
  }

  /**
   * Prisma calls this after sending ROLLBACK, and also, without sending anything, when its
   * COMMIT failed: then the connection may still be inside the transaction and must be rolled
   * back here, or every later query would run inside that dead transaction.
   */
  async rollback(): Promise<void> {
    this.#finish(() => {
      if (this.#connection.db.open && this.#connection.db.inTransaction) this.#connection.run("ROLLBACK");
    });
  }

  async createSavepoint(name: string): Promise<void> {
    await this.#inTransaction(() => this.#connection.run(`SAVEPOINT ${savepoint(name)}`));
  }

  async rollbackToSavepoint(name: string): Promise<void> {
    await this.#inTransaction(() => this.#connection.run(`ROLLBACK TO SAVEPOINT ${savepoint(name)}`));
  }

  async releaseSavepoint(name: string): Promise<void> {
    await this.#inTransaction(() => this.#connection.run(`RELEASE SAVEPOINT ${savepoint(name)}`));
  }

  #inTransaction<T>(work: () => T): Promise<T> {
    try {
      if (this.#release === null) {
        throw new DriverAdapterError({
          kind: "TransactionAlreadyClosed",
          cause: "the transaction was already committed or rolled back",
        });
      }
      if (!this.#connection.db.open) throw new DriverAdapterError({ kind: "ConnectionClosed" });
      return Promise.resolve(work());
    } catch (error) {
      return Promise.reject(toAdapterError(error));
    }
  }

  /** Runs the closing step, then gives the lock back whatever happened (only once). */
  #finish(close: () => void): void {
    const release = this.#release;
    if (release === null) return;
    this.#release = null;
    try {
      close();
    } finally {
      release();
    }
  }
}

function savepoint(name: string): string {
  if (!SAVEPOINT_NAME.test(name)) {
    throw new DriverAdapterError({
      kind: "InvalidInputValue",
      message: `invalid savepoint name ${JSON.stringify(name)}`,
    });
  }
  return name;
}
