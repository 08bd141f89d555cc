// Runs Prisma's queries on the one better-sqlite3 connection: statement cache, argument and row
// conversion, error mapping. No locking here: the adapter and its transactions decide when a
// query may run (adapter.ts).
import type { SqlQuery, SqlResultSet } from "@prisma/driver-adapter-utils";
import { resolveColumnTypes } from "./column-types.js";
import { mapArgs, mapRow, type TimestampFormat } from "./conversion.js";
import { toAdapterError } from "./error-mapping.js";
import { readColumns, StatementCache, type Statement } from "./statement-cache.js";

/** What the adapter needs from the database: a GuardedDatabase provides all of it. */
export interface AdapterDatabase {
  prepare(sql: string): Statement;
  exec(sql: string): unknown;
  readonly inTransaction: boolean;
  readonly open: boolean;
  readonly name: string;
  /** Whether this node may write now (GuardedDatabase: the gate, without throwing). */
  isWritable(): boolean;
  close(): unknown;
}

export interface ConnectionOptions {
  timestampFormat: TimestampFormat;
  statementCacheSize: number;
}

/** Largest number of bound parameters SQLite accepts (SQLITE_MAX_VARIABLE_NUMBER default since 3.32). */
const DEFAULT_MAX_BIND_VALUES = 32766;

export class Connection {
  readonly db: AdapterDatabase;
  readonly #cache: StatementCache;
  readonly #format: TimestampFormat;
  #maxBindValues: number | null = null;

  constructor(db: AdapterDatabase, options: ConnectionOptions) {
    this.db = db;
    this.#format = options.timestampFormat;
    this.#cache = new StatementCache((sql) => db.prepare(sql), options.statementCacheSize);
  }

  /** Runs `query` and returns its rows (empty result set for statements without output). */
  query(query: SqlQuery): SqlResultSet {
    try {
      const entry = this.#cache.get(query.sql);
      const args = mapArgs(query.args, query.argTypes, this.#format);
      if (!entry.reader) {
        const info = entry.stmt.run(args);
        if (entry.changesSchema) this.#cache.clear();
        return { columnNames: [], columnTypes: [], rows: [], lastInsertId: String(info.lastInsertRowid) };
      }
      let rows = entry.stmt.all(args) as unknown[][];
      let columns = entry.columns;
      // Another connection's DDL can change what `SELECT *` returns under a cached statement.
      if (rows.length > 0 && rows[0]!.length !== columns.names.length)
        columns = entry.columns = readColumns(entry.stmt);
      const columnTypes =
        columns.undeclared.length === 0
          ? (columns.declared.slice() as SqlResultSet["columnTypes"])
          : resolveColumnTypes(columns.declared, columns.undeclared, rows);
      let unsafe = false;
      for (const row of rows) if (mapRow(row, columnTypes)) unsafe = true;
      if (unsafe && columns.integersOnDemand) {
        // A number at or beyond 2^53 may be an integer read inexactly: read again, exactly.
        rows = allWithBigInts(entry.stmt, args);
        for (const row of rows) mapRow(row, columnTypes);
      }
      return { columnNames: columns.names.slice(), columnTypes, rows };
    } catch (error) {
      throw toAdapterError(error);
    }
  }

  /** Runs `query` and returns the number of rows it changed. */
  execute(query: SqlQuery): number {
    try {
      const entry = this.#cache.get(query.sql);
      const info = entry.stmt.run(mapArgs(query.args, query.argTypes, this.#format));
      if (entry.changesSchema) this.#cache.clear();
      return info.changes;
    } catch (error) {
      throw toAdapterError(error);
    }
  }

  /** Runs one SQL text without arguments (BEGIN, COMMIT, SAVEPOINT, …) through the cache. */
  run(sql: string): void {
    try {
      this.#cache.get(sql).stmt.run();
    } catch (error) {
      throw toAdapterError(error);
    }
  }

  /** Runs a multi-statement script (guarded by the database as a write). */
  script(sql: string): void {
    try {
      this.db.exec(sql);
    } catch (error) {
      throw toAdapterError(error);
    } finally {
      // A script may have changed any table: cached result metadata is suspect.
      this.#cache.clear();
    }
  }

  /**
   * SQLite's real limit on bound parameters, probed once: preparing `SELECT ?N` succeeds exactly
   * when N is within the limit, and the error names the limit otherwise.
   */
  maxBindValues(): number {
    if (this.#maxBindValues === null) {
      try {
        this.db.prepare(`SELECT ?${DEFAULT_MAX_BIND_VALUES}`);
        this.#maxBindValues = DEFAULT_MAX_BIND_VALUES;
      } catch (error) {
        const match = /between \?1 and \?(\d+)/.exec(error instanceof Error ? error.message : "");
        this.#maxBindValues = match ? Number(match[1]) : 999;
      }
    }
    return this.#maxBindValues;
  }
}

/** Runs a read-only statement again with every integer as a BigInt (exact). */
function allWithBigInts(stmt: Statement, args: unknown[]): unknown[][] {
  stmt.safeIntegers(true);
  try {
    return stmt.all(args) as unknown[][];
  } finally {
    stmt.safeIntegers(false);
  }
}
