// Property: over generated statements (random case, whitespace and comments, every statement
// family SQLite has), on a node that may not write, a statement runs iff SQLite calls it readonly
// and it is not one of the documented exceptions (or it is an exception that is allowed); whatever
// runs leaves the database files byte-identical. On a writable node the guard refuses nothing.
import BetterSqlite3 from "better-sqlite3";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GuardedDatabase } from "../../src/driver/guarded-database.js";
import { isNotPrimaryError, isSplitBrainError } from "../../src/errors.js";
import { createTempDir, fileFingerprint, SwitchGate, type TempDir } from "../support/switch-gate.js";

/**
 * The family a statement was generated from: the test's own knowledge, independent of the
 * driver's keyword reading. Exceptions to "SQLite's readonly decides":
 * - allowed although not readonly: explain, journal-mode-read
 * - refused although readonly: attach, optimize
 */
type Family =
  | "select"
  | "dml"
  | "ddl"
  | "maintenance"
  | "tx"
  | "begin-write"
  | "attach"
  | "detach"
  | "explain"
  | "pragma"
  | "journal-mode-read"
  | "optimize";

interface Generated {
  readonly sql: string;
  readonly family: Family;
}

const ALLOWED_EXCEPTIONS: ReadonlySet<Family> = new Set(["explain", "journal-mode-read"]);
const REFUSED_EXCEPTIONS: ReadonlySet<Family> = new Set(["attach", "optimize"]);

function expectedToRun(family: Family, sqliteReadonly: boolean): boolean {
  if (ALLOWED_EXCEPTIONS.has(family)) return true;
  if (REFUSED_EXCEPTIONS.has(family)) return false;
  return sqliteReadonly;
}

// --- generators

const trivia = fc
  .array(
    fc.constantFrom(" ", "\n", "\t", "  ", "/* note */", "/* BEGIN; EXPLAIN */ ", "-- PRAGMA journal_mode\n", "\r\n"),
    { maxLength: 3 },
  )
  .map((parts) => parts.join(""));

/** A keyword with random letter case. */
function kw(word: string): fc.Arbitrary<string> {
  return fc.array(fc.boolean(), { minLength: word.length, maxLength: word.length }).map((upper) =>
    Array.from(word)
      .map((ch, i) => (upper[i] ? ch.toUpperCase() : ch.toLowerCase()))
      .join(""),
  );
}

function seq(...parts: (string | fc.Arbitrary<string>)[]): fc.Arbitrary<string> {
  return fc.tuple(...parts.map((p) => (typeof p === "string" ? fc.constant(p) : p))).map((xs) => xs.join(" "));
}

const value = fc.oneof(
  fc.integer({ min: -5, max: 99 }).map(String),
  fc.constantFrom("'x'", "NULL", "'EXPLAIN'", "'BEGIN'"),
);
const where = fc.option(
  fc.integer({ min: 0, max: 5 }).map((n) => `WHERE id > ${n}`),
  { nil: "" },
);
const returning = fc.option(fc.constantFrom("RETURNING id", "RETURNING *", "returning x"), { nil: "" });
const cte = fc.option(fc.constant("WITH c(a) AS (SELECT 1)"), { nil: "" });

const select: fc.Arbitrary<Generated> = fc
  .oneof(
    seq(kw("SELECT"), fc.constantFrom("*", "x", "count(*)", "1"), "FROM t", where),
    seq(
      kw("VALUES"),
      value.map((v) => `(${v})`),
    ),
    seq(cte, kw("SELECT"), "a FROM c"),
    seq(kw("SELECT"), "* FROM v", where),
  )
  .map((sql) => ({ sql, family: "select" as const }));

const dml: fc.Arbitrary<Generated> = fc
  .oneof(
    seq(cte, kw("INSERT"), fc.constantFrom("", "OR IGNORE", "OR REPLACE"), "INTO t(x) VALUES (", value, ")", returning),
    seq(kw("REPLACE"), "INTO t(x) VALUES (", value, ")"),
    seq(cte, kw("UPDATE"), "t SET x =", value, where, returning),
    seq(cte, kw("DELETE"), "FROM t", where, returning),
    seq(kw("INSERT"), "INTO tt VALUES (", value, ")"),
  )
  .map((sql) => ({ sql, family: "dml" as const }));

const ddl: fc.Arbitrary<Generated> = fc
  .oneof(
    seq(kw("CREATE"), fc.constantFrom("", "TEMP"), "TABLE", fc.constantFrom("u1", "u2"), "(a, b)"),
    seq(kw("CREATE"), "TABLE IF NOT EXISTS t(a)"),
    seq(kw("DROP"), "TABLE IF EXISTS", fc.constantFrom("nope", "t2")),
    seq(kw("CREATE"), "INDEX IF NOT EXISTS", fc.constantFrom("ix1", "ix2"), "ON t(x)"),
    seq(kw("ALTER"), "TABLE t ADD COLUMN", fc.constantFrom("c1", "c2")),
    seq(kw("CREATE"), "VIEW IF NOT EXISTS v2 AS SELECT 1"),
  )
  .map((sql) => ({ sql, family: "ddl" as const }));

const maintenance: fc.Arbitrary<Generated> = fc
  .oneof(kw("VACUUM"), kw("ANALYZE"), seq(kw("REINDEX"), fc.constantFrom("", "i", "t")))
  .map((sql) => ({ sql, family: "maintenance" as const }));

const tx: fc.Arbitrary<Generated> = fc
  .oneof(
    seq(kw("BEGIN"), fc.constantFrom("", "DEFERRED"), fc.constantFrom("", "TRANSACTION")),
    kw("COMMIT"),
    kw("END"),
    kw("ROLLBACK"),
    seq(kw("SAVEPOINT"), fc.constantFrom("sp1", '"sp 2"')),
    seq(kw("RELEASE"), fc.constantFrom("", "SAVEPOINT"), "sp1"),
    seq(kw("ROLLBACK"), fc.constantFrom("", "TRANSACTION"), "TO", fc.constantFrom("", "SAVEPOINT"), "sp1"),
  )
  .map((sql) => ({ sql, family: "tx" as const }));

const beginWrite: fc.Arbitrary<Generated> = seq(
  kw("BEGIN"),
  fc.constantFrom(kw("IMMEDIATE"), kw("EXCLUSIVE")).chain((x) => x),
  fc.constantFrom("", "TRANSACTION"),
).map((sql) => ({ sql, family: "begin-write" as const }));

const attach: fc.Arbitrary<Generated> = seq(kw("ATTACH"), fc.constantFrom("':memory:'", "''"), "AS aux").map((sql) => ({
  sql,
  family: "attach" as const,
}));

const detach: fc.Arbitrary<Generated> = seq(kw("DETACH"), fc.constantFrom("", "DATABASE"), "aux2").map((sql) => ({
  sql,
  family: "detach" as const,
}));

const explainable = fc.oneof(select, dml, ddl, maintenance);
const explain: fc.Arbitrary<Generated> = fc
  .tuple(kw("EXPLAIN"), fc.constantFrom("", "QUERY PLAN"), explainable)
  .map(([e, qp, inner]) => ({ sql: `${e} ${qp} ${inner.sql}`, family: "explain" as const }));

const schema = fc.constantFrom("", "main.", '"main".', "[main].", "main . ");
const pragmaName = fc.constantFrom(
  "user_version",
  "application_id",
  "schema_version",
  "foreign_keys",
  "busy_timeout",
  "cache_size",
  "synchronous",
  "wal_checkpoint",
  "incremental_vacuum",
  "table_info",
  "integrity_check",
  "data_version",
  "page_count",
  "freelist_count",
);
const pragmaArgument = fc.constantFrom("", " = 1", "=0", "(t)", "(PASSIVE)", " = 7");
const pragma: fc.Arbitrary<Generated> = fc
  .tuple(kw("PRAGMA"), schema, pragmaName, pragmaArgument)
  .map(([p, s, name, arg]) => ({ sql: `${p} ${s}${name}${arg}`, family: "pragma" as const }));

const journalRead: fc.Arbitrary<Generated> = fc
  .tuple(
    kw("PRAGMA"),
    schema,
    fc.constantFrom("journal_mode", "`journal_mode`", '"journal_mode"'),
    fc.constantFrom("", " ", ";"),
  )
  .map(([p, s, name, tail]) => ({ sql: `${p} ${s}${name}${tail}`, family: "journal-mode-read" as const }));

const journalWrite: fc.Arbitrary<Generated> = fc
  .tuple(kw("PRAGMA"), schema, fc.constantFrom(" = WAL", "=DELETE", "(wal)", " = truncate"))
  .map(([p, s, arg]) => ({ sql: `${p} ${s}journal_mode${arg}`, family: "pragma" as const }));

const optimize: fc.Arbitrary<Generated> = fc
  .tuple(
    kw("PRAGMA"),
    schema,
    fc.constantFrom("optimize", '"optimize"', "'optimize'", "[optimize]"),
    fc.constantFrom("", "(0x10002)", "(-1)"),
  )
  .map(([p, s, name, arg]) => ({ sql: `${p} ${s}${name}${arg}`, family: "optimize" as const }));

const statement: fc.Arbitrary<Generated> = fc
  .tuple(
    trivia,
    fc.oneof(
      select,
      dml,
      ddl,
      maintenance,
      tx,
      beginWrite,
      attach,
      detach,
      explain,
      pragma,
      journalRead,
      journalWrite,
      optimize,
    ),
    fc.constantFrom("", ";", " ; -- end"),
  )
  .map(([lead, g, tail]) => ({ sql: `${lead}${g.sql}${tail}`, family: g.family }));

// --- the databases

const SCHEMA = `
  CREATE TABLE t(id INTEGER PRIMARY KEY, x);
  CREATE INDEX i ON t(x);
  CREATE VIEW v AS SELECT * FROM t;
  INSERT INTO t(x) VALUES (1), ('two'), (3);
`;

function runStatement(
  db: BetterSqlite3.Database,
  sql: string,
): { prepared: false } | { prepared: true; readonly: boolean; error: unknown } {
  let stmt: BetterSqlite3.Statement;
  try {
    stmt = db.prepare(sql);
  } catch {
    return { prepared: false };
  }
  try {
    if (stmt.reader) stmt.all();
    else stmt.run();
    return { prepared: true, readonly: stmt.readonly, error: null };
  } catch (error) {
    return { prepared: true, readonly: stmt.readonly, error };
  }
}

function isRefusal(error: unknown): boolean {
  return isNotPrimaryError(error) || isSplitBrainError(error);
}

let dir: TempDir;

beforeAll(() => {
  dir = createTempDir("litefs-node-driver-prop-");
});
afterAll(() => dir.cleanup());

describe.each(["replica", "no-primary", "split-brain"] as const)("on a node that may not write (%s)", (state) => {
  it("runs exactly the statements SQLite calls readonly (modulo the documented exceptions), and nothing it runs writes", () => {
    const file = dir.file(`replica-${state}.db`);
    const setup = new GuardedDatabase(file, { gate: new SwitchGate("primary") });
    setup.exec(SCHEMA);
    setup.pragma("wal_checkpoint(TRUNCATE)");
    setup.close();
    const db = new GuardedDatabase(file, { gate: new SwitchGate(state) });
    // An attached database so DETACH has something to detach (ATTACH itself is refused here).
    BetterSqlite3.prototype.exec.call(db, "ATTACH ':memory:' AS aux2");
    const before = fileFingerprint(file);
    let prepared = 0;
    try {
      fc.assert(
        fc.property(statement, ({ sql, family }) => {
          const outcome = runStatement(db, sql);
          if (!outcome.prepared) return;
          prepared++;
          if (db.inTransaction) db.prepare("ROLLBACK").run(); // transaction control runs anywhere
          // A DETACH that succeeded: re-attach (bypassing the guard) so every DETACH sees the same state.
          if (family === "detach" && outcome.error === null)
            BetterSqlite3.prototype.exec.call(db, "ATTACH ':memory:' AS aux2");
          expect(isRefusal(outcome.error), `${sql} (readonly=${outcome.readonly})`).toBe(
            !expectedToRun(family, outcome.readonly),
          );
          expect(fileFingerprint(file), sql).toBe(before);
        }),
        { numRuns: 400 },
      );
    } finally {
      db.close();
    }
    expect(prepared).toBeGreaterThan(300);
  });
});

it("on a writable node the guard refuses nothing", () => {
  const file = dir.file("primary.db");
  const db = new GuardedDatabase(file, { gate: new SwitchGate("primary") });
  db.exec(SCHEMA);
  try {
    fc.assert(
      fc.property(statement, ({ sql }) => {
        const outcome = runStatement(db, sql);
        if (db.inTransaction) db.prepare("ROLLBACK").run(); // transaction control runs anywhere
        if (outcome.prepared) expect(isRefusal(outcome.error), sql).toBe(false);
      }),
      { numRuns: 300 },
    );
  } finally {
    db.close();
  }
});
