// The classification table: what SQLite says (readonly) and what the driver makes of it. Every
// surprise of orm-contracts.md has a row; the `sqliteReadonly` column keeps that doc honest.
import BetterSqlite3 from "better-sqlite3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { classifyStatement, isGuardedKind, type StatementKind } from "../../src/driver/classify.js";

// sqliteReadonly "varies": SQLite's answer depends on the schema (what there is to analyze).
type Row = readonly [sql: string, sqliteReadonly: boolean | "varies", kind: StatementKind];

const TABLE: readonly Row[] = [
  // Plain reads.
  ["SELECT 1", true, "read"],
  ["select * from t where id = ?", true, "read"],
  ["WITH c AS (SELECT 1 AS a) SELECT a FROM c", true, "read"],
  ["VALUES (1), (2)", true, "read"],
  ["SELECT count(*) FROM sqlite_master", true, "read"],
  ["  /* leading comment */ -- and another\n SELECT x FROM t", true, "read"],
  ["SELECT * FROM v", true, "read"],
  // Plain writes.
  ["INSERT INTO t(x) VALUES (1)", false, "write"],
  ["insert or ignore into t(x) values (1)", false, "write"],
  ["REPLACE INTO t(x) VALUES (1)", false, "write"],
  ["UPDATE t SET x = 2", false, "write"],
  ["DELETE FROM t", false, "write"],
  ["CREATE TABLE u(a)", false, "write"],
  ["CREATE TABLE IF NOT EXISTS t(a)", false, "write"],
  ["DROP TABLE IF EXISTS nope", false, "write"],
  ["CREATE INDEX i2 ON t(x)", false, "write"],
  ["ALTER TABLE t ADD COLUMN y", false, "write"],
  ["CREATE VIEW v2 AS SELECT 1", false, "write"],
  ["CREATE TRIGGER tr AFTER INSERT ON t BEGIN SELECT 1; END", false, "write"],
  ["VACUUM", false, "write"],
  ["ANALYZE", false, "write"],
  ["REINDEX", false, "write"],
  // Surprise: RETURNING makes a write a reader; WITH ... INSERT is a write.
  ["INSERT INTO t(x) VALUES (1) RETURNING id", false, "write"],
  ["UPDATE t SET x = 3 RETURNING *", false, "write"],
  ["DELETE FROM t RETURNING id", false, "write"],
  ["WITH c AS (SELECT 1 AS a) INSERT INTO t(x) SELECT a FROM c", false, "write"],
  // Surprise: temp tables are writes to SQLite; we stay conservative.
  ["INSERT INTO tt VALUES (1)", false, "write"],
  ["CREATE TEMP TABLE tt2(a)", false, "write"],
  // Surprise: transaction control is readonly; BEGIN IMMEDIATE/EXCLUSIVE is not.
  ["BEGIN", true, "tx-begin"],
  ["BEGIN DEFERRED", true, "tx-begin"],
  ["begin transaction", true, "tx-begin"],
  ["BEGIN IMMEDIATE", false, "write-start"],
  ["BeGiN ImMeDiAtE TRANSACTION", false, "write-start"],
  ["BEGIN EXCLUSIVE", false, "write-start"],
  ["COMMIT", true, "tx-end"],
  ["END", true, "tx-end"],
  ["ROLLBACK", true, "tx-rollback"],
  ["SAVEPOINT sp1", true, "tx-begin"],
  ['savepoint "a b"', true, "tx-begin"],
  ["RELEASE sp1", true, "tx-end"],
  ["release savepoint sp1", true, "tx-end"],
  ["ROLLBACK TO sp1", true, "tx-rollback"],
  ["rollback transaction to savepoint sp1", true, "tx-rollback"],
  // Surprise: ATTACH is readonly to SQLite but may create a file.
  ["ATTACH ':memory:' AS aux", true, "write"],
  ["DETACH aux2", true, "read"],
  ["END TRANSACTION", true, "tx-end"],
  // Surprise: DDL that is a no-op in today's schema is readonly to SQLite, and writes once the
  // schema changes under it (SQLite re-prepares it inside step): guarded whatever the schema.
  ["DROP TRIGGER IF EXISTS nope", true, "write"],
  ["CREATE TRIGGER IF NOT EXISTS tr0 AFTER INSERT ON t BEGIN SELECT 1; END", true, "write"],
  // Surprise: EXPLAIN of a write is not readonly, but only describes.
  ["EXPLAIN SELECT 1", true, "read"],
  ["EXPLAIN INSERT INTO t(x) VALUES (1)", false, "read"],
  ["explain query plan delete from t", false, "read"],
  ["EXPLAIN QUERY PLAN SELECT * FROM t", true, "read"],
  // PRAGMA: journal_mode read is "not readonly"; optimize is "readonly" but writes.
  ["PRAGMA journal_mode", false, "read"],
  ["pragma main.journal_mode", false, "read"],
  ['PRAGMA "main".journal_mode', false, "read"],
  ["PRAGMA `journal_mode` ;", false, "read"],
  ["PRAGMA journal_mode = WAL", false, "write"],
  ["PRAGMA journal_mode=DELETE", false, "write"],
  ["PRAGMA optimize", true, "write"],
  ["PRAGMA main.optimize", true, "write"],
  ['PRAGMA "optimize"', true, "write"],
  ["PRAGMA 'optimize'", true, "write"],
  ["PRAGMA [main].optimize", true, "write"],
  ["PRAGMA optimize(0x10002)", "varies", "write"],
  ["PRAGMA wal_checkpoint(TRUNCATE)", false, "write"],
  ["PRAGMA incremental_vacuum", false, "write"],
  ["PRAGMA user_version", true, "read"],
  ["PRAGMA user_version = 3", false, "write"],
  ['PRAGMA "user_version"=4', false, "write"],
  ["PRAGMA application_id = 7", false, "write"],
  ["PRAGMA schema_version = 99", false, "write"],
  ["PRAGMA table_info(t)", true, "read"],
  ["PRAGMA index_list('t')", true, "read"],
  ["PRAGMA integrity_check", true, "read"],
  ["PRAGMA foreign_key_check", true, "read"],
  ["PRAGMA data_version", true, "read"],
  // Connection-local settings: readonly, and a replica needs them.
  ["PRAGMA foreign_keys = ON", true, "read"],
  ["PRAGMA busy_timeout = 100", true, "read"],
  ["PRAGMA cache_size = -2000", true, "read"],
  ["PRAGMA synchronous = NORMAL", true, "read"],
  ["PRAGMA temp_store = MEMORY", true, "read"],
  ["PRAGMA query_only = 1", true, "read"],
];

describe("classifyStatement over real SQLite statements", () => {
  let db: BetterSqlite3.Database;

  beforeAll(() => {
    db = new BetterSqlite3(":memory:");
    db.exec(`
      CREATE TABLE t(id INTEGER PRIMARY KEY, x);
      CREATE INDEX i ON t(x);
      CREATE TEMP TABLE tt(a);
      CREATE VIEW v AS SELECT * FROM t;
      CREATE TRIGGER tr0 AFTER INSERT ON t BEGIN SELECT 1; END;
      ATTACH ':memory:' AS aux2;
    `);
  });
  afterAll(() => db.close());

  it("covers at least 40 statements", () => {
    expect(TABLE.length).toBeGreaterThanOrEqual(40);
  });

  it.each(TABLE)("%s: SQLite readonly=%s -> %s", (sql, sqliteReadonly, kind) => {
    const stmt = db.prepare(sql);
    if (sqliteReadonly !== "varies") expect(stmt.readonly).toBe(sqliteReadonly);
    expect(classifyStatement(stmt)).toBe(kind);
  });

  it("guards exactly write and write-start", () => {
    expect(isGuardedKind("write")).toBe(true);
    expect(isGuardedKind("write-start")).toBe(true);
    expect(isGuardedKind("read")).toBe(false);
    expect(isGuardedKind("tx-begin")).toBe(false);
    expect(isGuardedKind("tx-end")).toBe(false);
    expect(isGuardedKind("tx-rollback")).toBe(false);
  });

  it("reads only the leading keyword: later text cannot change the verdict", () => {
    // A string or comment that mentions EXPLAIN or BEGIN does not make a write harmless.
    expect(classifyStatement(db.prepare("INSERT INTO t(x) VALUES ('EXPLAIN')"))).toBe("write");
    expect(classifyStatement(db.prepare("/* EXPLAIN */ INSERT INTO t(x) VALUES (1)"))).toBe("write");
    expect(classifyStatement(db.prepare("-- PRAGMA journal_mode\nDELETE FROM t RETURNING id"))).toBe("write");
  });
});
