// Prepared statements by SQL text, bounded, least recently used evicted. Prisma sends the same
// few SQL texts over and over; preparing (and classifying, and reading the column metadata of)
// each one once is where the adapter's speed over the official one comes from.
import type { ColumnType } from "@prisma/driver-adapter-utils";
import type BetterSqlite3 from "better-sqlite3";
import { columnTypeFromDeclared } from "./column-types.js";

export type Statement = BetterSqlite3.Statement<unknown[], unknown>;

/** A prepared statement and what is known about it once and for all. */
export interface CachedStatement {
  readonly stmt: Statement;
  /** Returns rows (SELECT, PRAGMA with output, … RETURNING). */
  readonly reader: boolean;
  /** DDL: running it may change other statements' result columns, so the cache is cleared after. */
  readonly changesSchema: boolean;
  /** Result metadata of a reader; refreshed if the column count no longer matches (schema change). */
  columns: ColumnInfo;
  /** @internal When it was last used (StatementCache's clock): the eviction order. */
  lastUsed: number;
}

export interface ColumnInfo {
  readonly names: string[];
  /** ColumnType from the declared type, or null where the values must decide. */
  readonly declared: (ColumnType | null)[];
  /** Indexes of the columns whose type is decided by their values. */
  readonly undeclared: number[];
}

const EMPTY_COLUMNS: ColumnInfo = Object.freeze({ names: [], declared: [], undeclared: [] }) as ColumnInfo;
const DDL = /^\s*(?:CREATE|ALTER|DROP)\b/i;

export const DEFAULT_STATEMENT_CACHE_SIZE = 256;

export class StatementCache {
  readonly #prepare: (sql: string) => Statement;
  readonly #capacity: number;
  readonly #entries = new Map<string, CachedStatement>();
  // Least-recently-used order by timestamp: a hit only bumps a number (re-inserting into the Map
  // would hash the SQL text twice more per query); the rare eviction scans for the oldest.
  #clock = 0;

  constructor(prepare: (sql: string) => Statement, capacity = DEFAULT_STATEMENT_CACHE_SIZE) {
    if (!Number.isInteger(capacity) || capacity < 0) {
      throw new RangeError(`statementCacheSize must be a non-negative integer, got ${capacity}`);
    }
    this.#prepare = prepare;
    this.#capacity = capacity;
  }

  get size(): number {
    return this.#entries.size;
  }

  /** The cached statement for `sql`, preparing it on a miss. Prepare errors propagate uncached. */
  get(sql: string): CachedStatement {
    const hit = this.#entries.get(sql);
    if (hit !== undefined) {
      hit.lastUsed = ++this.#clock;
      return hit;
    }
    const entry = describe(this.#prepare(sql));
    entry.lastUsed = ++this.#clock;
    if (this.#capacity > 0) {
      if (this.#entries.size >= this.#capacity) this.#evictLeastRecentlyUsed();
      this.#entries.set(sql, entry);
    }
    return entry;
  }

  #evictLeastRecentlyUsed(): void {
    let oldestSql: string | null = null;
    let oldestUse = Infinity;
    for (const [sql, entry] of this.#entries) {
      if (entry.lastUsed < oldestUse) {
        oldestUse = entry.lastUsed;
        oldestSql = sql;
      }
    }
    if (oldestSql !== null) this.#entries.delete(oldestSql);
  }

  /** Forgets every statement (after DDL or a script: result columns may have changed). */
  clear(): void {
    this.#entries.clear();
  }
}

function describe(stmt: Statement): CachedStatement {
  // Integers as BigInt everywhere, like the official adapter: exact beyond 2^53 (rowids,
  // INTEGER PRIMARY KEY, lastInsertRowid), and integer vs REAL tells expression columns apart.
  stmt.safeIntegers(true);
  const reader = stmt.reader;
  if (!reader) return { stmt, reader, changesSchema: DDL.test(stmt.source), columns: EMPTY_COLUMNS, lastUsed: 0 };
  stmt.raw(true); // rows as arrays, as Prisma wants them
  return { stmt, reader, changesSchema: false, columns: readColumns(stmt), lastUsed: 0 };
}

/** Reads a reader's result columns: names and declared types. */
export function readColumns(stmt: Statement): ColumnInfo {
  const names: string[] = [];
  const declared: (ColumnType | null)[] = [];
  const undeclared: number[] = [];
  for (const column of stmt.columns()) {
    const type = columnTypeFromDeclared(column.type);
    if (type === null) undeclared.push(names.length);
    names.push(column.name);
    declared.push(type);
  }
  return { names, declared, undeclared };
}
