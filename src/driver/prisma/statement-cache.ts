// Prepared statements by SQL text, bounded, least recently used evicted. Prisma sends the same
// few SQL texts over and over; preparing (and classifying, and reading the column metadata of)
// each one once is where the adapter's speed over the official one comes from.
import type { ColumnType } from "@prisma/driver-adapter-utils";
import type BetterSqlite3 from "better-sqlite3";
import { columnTypeFromDeclared } from "./column-types.js";
import { leadingKeywordIsOneOf } from "../sql-tokens.js";

export type Statement = BetterSqlite3.Statement;

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
  /** Integers are read as numbers; a value beyond 2^53 means: read again with BigInts. */
  readonly integersOnDemand: boolean;
}

const EMPTY_COLUMNS: ColumnInfo = Object.freeze({
  names: [],
  declared: [],
  undeclared: [],
  integersOnDemand: false,
});
// Read with the driver's one tokenizer, so a leading comment ("/* m1 */ CREATE ...") is skipped as SQLite does.
const DDL_KEYWORDS = ["CREATE", "ALTER", "DROP"] as const;

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
  const reader = stmt.reader;
  if (!reader) {
    stmt.safeIntegers(true); // exact lastInsertRowid beyond 2^53
    return {
      stmt,
      reader,
      changesSchema: leadingKeywordIsOneOf(stmt.source, DDL_KEYWORDS),
      columns: EMPTY_COLUMNS,
      lastUsed: 0,
    };
  }
  stmt.raw(true); // rows as arrays, as Prisma wants them
  return { stmt, reader, changesSchema: false, columns: readColumns(stmt), lastUsed: 0 };
}

/**
 * Reads a reader's result columns (names, declared types) and sets its integer mode.
 * Integers must come back exactly (as BigInt beyond 2^53), like the official adapter's. A BigInt
 * per integer costs about a tenth of a 50-row read, so where nothing else needs BigInts (every
 * column declared, and a read-only statement that may safely run twice) integers are read as
 * numbers and the statement is re-run with BigInts only when a value reaches 2^53
 * (Connection.query): the same answers, exact, at the cost of numbers in the common case.
 */
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
  // Undeclared columns are typed from their values: an integer (BigInt) and a REAL (number)
  // must stay apart there.
  const integersOnDemand = undeclared.length === 0 && stmt.readonly;
  stmt.safeIntegers(!integersOnDemand);
  return { names, declared, undeclared, integersOnDemand };
}
