// What a prepared statement does, as far as "may this node run it?" is concerned.
//
// SQLite is the classifier: `Statement.readonly` is `sqlite3_stmt_readonly()`, computed from the
// compiled program. We only correct it where its answer does not match "writes to the replicated
// database" (verified on SQLite 3.53.2, better-sqlite3 12.11.1; each case has a test):
//
// | statement                                   | SQLite readonly | our kind      | why                                   |
// |---------------------------------------------|-----------------|---------------|---------------------------------------|
// | BEGIN, BEGIN DEFERRED, COMMIT, END,         | true            | "tx-control"  | no write by itself; runs on a replica |
// | ROLLBACK [TO], SAVEPOINT, RELEASE           |                 |               |                                       |
// | BEGIN IMMEDIATE, BEGIN EXCLUSIVE            | false           | "write-start" | takes the write lock: primary only    |
// | ATTACH                                      | true            | "write"       | may create a file next to the db      |
// | PRAGMA optimize (any form)                  | true (mostly)   | "write"       | runs ANALYZE, writes sqlite_stat1     |
// | EXPLAIN ..., EXPLAIN QUERY PLAN ...         | false for writes| "read"        | only describes the program            |
// | PRAGMA journal_mode (no argument)           | false           | "read"        | a read of the mode                    |
//
// Everything else follows SQLite: readonly -> "read", not readonly -> "write". That includes, on
// purpose: `PRAGMA x = y` that SQLite marks as writing (user_version, application_id,
// schema_version, journal_mode=..., wal_checkpoint, incremental_vacuum) -> guarded, while
// connection-local settings (foreign_keys=ON, busy_timeout, cache_size, synchronous, ...) are
// readonly and pass, because a replica needs them; writes to TEMP tables -> guarded (SQLite does
// not tell them apart; conservative); DETACH -> read. Known limit: a user-defined SQL function with
// side effects inside a SELECT is invisible to SQLite and to us.

import { charAt, skipTrivia, wordEnd, wordIs } from "./sql-tokens.js";

/**
 * - `read`: runs anywhere.
 * - `write`: mutates the database: refused unless this node is writable, checked at execution.
 * - `write-start`: `BEGIN IMMEDIATE/EXCLUSIVE`: takes the write lock: guarded like a write.
 * - `tx-control`: BEGIN (deferred), COMMIT, ROLLBACK, SAVEPOINT, RELEASE: runs anywhere.
 */
export type StatementKind = "read" | "write" | "write-start" | "tx-control";

/** The three facts better-sqlite3 gives about a prepared statement. */
export interface ClassifiableStatement {
  readonly readonly: boolean;
  readonly reader: boolean;
  readonly source: string;
}

/** True for the kinds that need `gate.assertWritable()` before they run. */
export function isGuardedKind(kind: StatementKind): boolean {
  return kind === "write" || kind === "write-start";
}

/** Classifies one prepared statement (see the table above). Pure; cheap on the common kinds. */
export function classifyStatement(stmt: ClassifiableStatement): StatementKind {
  const sql = stmt.source;
  const start = skipTrivia(sql, 0);
  const end = wordEnd(sql, start);
  if (stmt.readonly) {
    if (wordIs(sql, start, end, "PRAGMA")) return classifyPragma(sql, end, true);
    if (stmt.reader) return "read"; // SELECT, VALUES, WITH ... SELECT, EXPLAIN of a read
    if (isTransactionControl(sql, start, end)) return "tx-control";
    if (wordIs(sql, start, end, "ATTACH")) return "write";
    return "read"; // DETACH, REINDEX with nothing to rebuild
  }
  if (stmt.reader) {
    // RETURNING writes are readers too; only these two leading keywords make a non-readonly
    // reader harmless.
    if (wordIs(sql, start, end, "EXPLAIN")) return "read";
    if (wordIs(sql, start, end, "PRAGMA")) return classifyPragma(sql, end, false);
    return "write";
  }
  if (wordIs(sql, start, end, "BEGIN")) return "write-start";
  return "write";
}

function isTransactionControl(sql: string, start: number, end: number): boolean {
  return (
    wordIs(sql, start, end, "BEGIN") ||
    wordIs(sql, start, end, "COMMIT") ||
    wordIs(sql, start, end, "END") ||
    wordIs(sql, start, end, "ROLLBACK") ||
    wordIs(sql, start, end, "SAVEPOINT") ||
    wordIs(sql, start, end, "RELEASE")
  );
}

const DOT = 0x2e;
const EQUALS = 0x3d;
const OPEN_PAREN = 0x28;

/**
 * PRAGMA [schema.]name [= value | (value)]: SQLite's verdict, except `optimize` (always guarded)
 * and a bare `journal_mode` read (always allowed). PRAGMA statements are rare, so this path may
 * allocate (dequoting names).
 */
function classifyPragma(sql: string, afterKeyword: number, readonly: boolean): StatementKind {
  let token = readName(sql, skipTrivia(sql, afterKeyword));
  let next = skipTrivia(sql, token.end);
  if (charAt(sql, next) === DOT) {
    token = readName(sql, skipTrivia(sql, next + 1));
    next = skipTrivia(sql, token.end);
  }
  const name = token.name.toLowerCase();
  if (name === "optimize") return "write";
  const after = charAt(sql, next);
  const hasArgument = after === EQUALS || after === OPEN_PAREN;
  if (!readonly && !hasArgument && name === "journal_mode") return "read";
  return readonly ? "read" : "write";
}

/** A bare word or a quoted identifier/string ("x", 'x', `x`, [x]), dequoted like SQLite does. */
function readName(sql: string, from: number): { name: string; end: number } {
  const open = charAt(sql, from);
  const close = open === 0x22 || open === 0x27 || open === 0x60 ? open : open === 0x5b ? 0x5d : -1;
  if (close === -1) {
    const end = wordEnd(sql, from);
    return { name: sql.slice(from, end), end };
  }
  let name = "";
  let i = from + 1;
  while (i < sql.length) {
    const c = sql.charCodeAt(i);
    if (c === close) {
      // A doubled quote is an escaped quote (not for [...]).
      if (close !== 0x5d && sql.charCodeAt(i + 1) === close) {
        name += sql[i];
        i += 2;
        continue;
      }
      return { name, end: i + 1 };
    }
    name += sql[i];
    i++;
  }
  return { name, end: i };
}
