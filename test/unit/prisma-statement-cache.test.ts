import Database from "better-sqlite3";
import { ColumnTypeEnum } from "@prisma/driver-adapter-utils";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { StatementCache, type Statement } from "../../src/driver/prisma/statement-cache.js";

let db: Database.Database;
let prepared: string[];
const prepare = (sql: string): Statement => {
  prepared.push(sql);
  return db.prepare(sql);
};

beforeEach(() => {
  db = new Database(":memory:");
  db.exec("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT, data BLOB)");
  prepared = [];
});
afterEach(() => db.close());

describe("StatementCache", () => {
  it("prepares and describes each SQL text once", () => {
    const cache = new StatementCache(prepare, 8);
    const a = cache.get("SELECT id, name, 1 + 1 AS two FROM t");
    const b = cache.get("SELECT id, name, 1 + 1 AS two FROM t");
    expect(b).toBe(a);
    expect(prepared).toHaveLength(1);
    expect(a.reader).toBe(true);
    expect(a.columns.names).toEqual(["id", "name", "two"]);
    expect(a.columns.declared).toEqual([ColumnTypeEnum.Int32, ColumnTypeEnum.Text, null]);
    expect(a.columns.undeclared).toEqual([2]);
    // Set once: raw arrays and exact integers.
    db.exec("INSERT INTO t VALUES (9007199254740993, 'x', NULL)");
    expect(a.stmt.all()).toEqual([[9007199254740993n, "x", 2n]]);
    const insert = cache.get("INSERT INTO t (name) VALUES (?)");
    expect(insert.reader).toBe(false);
    expect(insert.changesSchema).toBe(false);
    expect(cache.get("  create table u (x)").changesSchema).toBe(true);
  });

  it("sees DDL behind a leading comment, as SQLite's tokenizer does", () => {
    const cache = new StatementCache(prepare, 8);
    expect(cache.get("/* migration 7 */ CREATE TABLE v (x)").changesSchema).toBe(true);
    expect(cache.get("-- add a column\nALTER TABLE t ADD COLUMN extra TEXT").changesSchema).toBe(true);
    expect(cache.get("/* DROP */ SELECT 1").changesSchema).toBe(false);
    expect(cache.get("SELECT 'CREATE'").changesSchema).toBe(false);
  });

  it("reads integers as BigInt unless every column is declared and the statement is read-only", () => {
    db.exec("CREATE TABLE w (i INTEGER, b BIGINT, d DECIMAL); INSERT INTO w VALUES (1, 2, 3)");
    const cache = new StatementCache(prepare, 8);
    const declared = cache.get("SELECT i, b, d FROM w");
    expect(declared.columns.integersOnDemand).toBe(true);
    expect(declared.stmt.all()).toEqual([[1, 2, 3]]);
    // An expression column is typed by its values: integer (BigInt) and REAL must stay apart.
    const expression = cache.get("SELECT i, i + 0 FROM w");
    expect(expression.columns.integersOnDemand).toBe(false);
    expect(expression.stmt.all()).toEqual([[1n, 1n]]);
    // RETURNING writes cannot be run twice.
    const returning = cache.get("UPDATE w SET i = i RETURNING i");
    expect(returning.columns.integersOnDemand).toBe(false);
    expect(returning.stmt.all()).toEqual([[1n]]);
  });

  it("is bounded and evicts the least recently used", () => {
    const cache = new StatementCache(prepare, 2);
    cache.get("SELECT 1");
    cache.get("SELECT 2");
    cache.get("SELECT 1"); // 1 is now the most recent
    cache.get("SELECT 3"); // evicts 2
    expect(cache.size).toBe(2);
    cache.get("SELECT 1");
    expect(prepared).toEqual(["SELECT 1", "SELECT 2", "SELECT 3"]);
    cache.get("SELECT 2");
    expect(prepared).toEqual(["SELECT 1", "SELECT 2", "SELECT 3", "SELECT 2"]);
  });

  it("size 0 disables caching; clear() forgets everything; bad sizes are refused", () => {
    const off = new StatementCache(prepare, 0);
    off.get("SELECT 1");
    off.get("SELECT 1");
    expect(prepared).toHaveLength(2);
    const cache = new StatementCache(prepare, 4);
    cache.get("SELECT 1");
    cache.clear();
    expect(cache.size).toBe(0);
    expect(() => new StatementCache(prepare, -1)).toThrow(/statementCacheSize/);
  });

  it("does not cache a statement that failed to prepare", () => {
    const cache = new StatementCache(prepare, 4);
    expect(() => cache.get("SELECT * FROM missing")).toThrow(/no such table/);
    expect(cache.size).toBe(0);
  });
});
