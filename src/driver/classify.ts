// What a prepared statement does, as far as "may this node run it?" is concerned.
//
// SQLite is the classifier: `Statement.readonly` is `sqlite3_stmt_readonly()`, computed from the
// compiled program. We only correct it where its answer does not match "writes to the replicated
// database" (verified on SQLite 3.53.2, better-sqlite3 12.11.1; each case has a test):
//
// | statement                                   | SQLite readonly | our kind      | why                                   |
// |---------------------------------------------|-----------------|---------------|---------------------------------------|
// | BEGIN, BEGIN DEFERRED, SAVEPOINT            | true            | "tx-begin"    | no write by itself; runs on a replica |
// | COMMIT, END, RELEASE                        | true            | "tx-end"      | lands the transaction's writes        |
// | ROLLBACK, ROLLBACK TO                       | true            | "tx-rollback" | undoes; runs anywhere                 |
// | BEGIN IMMEDIATE, BEGIN EXCLUSIVE            | false           | "write-start" | takes the write lock: primary only    |
// | ATTACH                                      | true            | "write"       | may create a file next to the db      |
// | any other readonly statement that returns   | true            | "write"       | readonly only in TODAY's schema (see  |
// | no rows, except DETACH (e.g. DROP TRIGGER   |                 |               | below)                                |
// | IF EXISTS of a missing trigger)             |                 |               |                                       |
// | PRAGMA optimize (any form)                  | true (mostly)   | "write"       | runs ANALYZE, writes sqlite_stat1     |
// | EXPLAIN ..., EXPLAIN QUERY PLAN ...         | false for writes| "read"        | only describes the program            |
// | PRAGMA journal_mode (no argument)           | false           | "read"        | a read of the mode                    |
//
// Schema-dependent verdicts: SQLite compiles `DROP TRIGGER IF EXISTS trg` to a no-op, readonly
// program while trg does not exist (likewise `CREATE TRIGGER IF NOT EXISTS` of an existing one).
// When replication later changes the schema, SQLite re-prepares the statement inside its next
// step and runs the new program, which writes, and `stmt.readonly` still says true afterwards
// (verified on SQLite 3.53.2): a class read at prepare time would let that write through on a
// replica, and re-reading `readonly` at execution cannot see the change either. So a readonly
// statement that returns no rows is a write unless it is transaction control or DETACH: the
// only such statements are DDL that happens to be a no-op today, and guarding them costs nothing
// (they are rare, and on a primary the check is one comparison).
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
 * - `tx-begin`: BEGIN (deferred), SAVEPOINT: runs anywhere (a replica may read in a transaction).
 * - `tx-end`: COMMIT, END, RELEASE: runs anywhere, but when it ends a transaction that wrote, the
 *   gate is asked first (guarded-statement.ts).
 * - `tx-rollback`: ROLLBACK, ROLLBACK TO: runs anywhere.
 */
export type StatementKind = "read" | "write" | "write-start" | "tx-begin" | "tx-end" | "tx-rollback";

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
    const control = transactionControl(sql, start, end);
    if (control !== null) return control;
    if (wordIs(sql, start, end, "DETACH")) return "read";
    return "write"; // ATTACH; DDL that is a no-op in today's schema (see above)
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

function transactionControl(sql: string, start: number, end: number): StatementKind | null {
  if (wordIs(sql, start, end, "BEGIN") || wordIs(sql, start, end, "SAVEPOINT")) return "tx-begin";
  if (wordIs(sql, start, end, "COMMIT") || wordIs(sql, start, end, "END") || wordIs(sql, start, end, "RELEASE"))
    return "tx-end";
  if (wordIs(sql, start, end, "ROLLBACK")) return "tx-rollback";
  return null;
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
        name += sql.charAt(i);
        i += 2;
        continue;
      }
      return { name, end: i + 1 };
    }
    name += sql.charAt(i);
    i++;
  }
  return { name, end: i };
}
