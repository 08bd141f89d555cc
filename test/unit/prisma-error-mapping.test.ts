// Errors produced by a real SQLite (better-sqlite3), mapped as Prisma expects.
import Database from "better-sqlite3";
import { DriverAdapterError } from "@prisma/driver-adapter-utils";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { isNotPrimaryError, isSplitBrainError, NotPrimaryError, SplitBrainError } from "../../src/errors.js";
import { ArgumentConversionError } from "../../src/driver/prisma/conversion.js";
import { mapSqliteError, toAdapterError } from "../../src/driver/prisma/error-mapping.js";

let db: Database.Database;

beforeEach(() => {
  db = new Database(":memory:");
  db.exec(`
    CREATE TABLE parent (id INTEGER PRIMARY KEY, email TEXT NOT NULL, tenant INTEGER);
    CREATE UNIQUE INDEX parent_email ON parent(email, tenant);
    CREATE TABLE tag (name TEXT);
    CREATE UNIQUE INDEX tag_lower ON tag(lower(name));
    INSERT INTO tag VALUES ('a');
    CREATE TABLE child (id INTEGER PRIMARY KEY, parent_id INTEGER NOT NULL REFERENCES parent(id));
    INSERT INTO parent VALUES (1, 'a', 1);
  `);
});
afterEach(() => db.close());

function sqliteError(sql: string): unknown {
  try {
    db.exec(sql);
  } catch (error) {
    return error;
  }
  throw new Error(`expected ${sql} to fail`);
}

function mapped(sql: string): DriverAdapterError {
  const error = toAdapterError(sqliteError(sql));
  expect(error).toBeInstanceOf(DriverAdapterError);
  return error as DriverAdapterError;
}

describe("SQLite errors", () => {
  it("unique violations carry the fields and the table", () => {
    expect(mapped("INSERT INTO parent VALUES (2, 'a', 1)").cause).toEqual({
      kind: "UniqueConstraintViolation",
      constraint: { fields: ["email", "tenant"] },
      table: "parent",
      originalCode: "SQLITE_CONSTRAINT_UNIQUE",
      originalMessage: "UNIQUE constraint failed: parent.email, parent.tenant",
    });
    expect(mapped("INSERT INTO parent VALUES (1, 'b', 1)").cause).toMatchObject({
      kind: "UniqueConstraintViolation",
      constraint: { fields: ["id"] },
      originalCode: "SQLITE_CONSTRAINT_PRIMARYKEY",
    });
    // Expression index: no column list; SQLite's text is the one field, as on the official adapter.
    expect(mapped("INSERT INTO tag VALUES ('A')").cause).toMatchObject({
      kind: "UniqueConstraintViolation",
      constraint: { fields: ["index 'tag_lower'"] },
    });
  });

  it("not-null, foreign key, missing table and column", () => {
    expect(mapped("INSERT INTO parent (id, email) VALUES (5, NULL)").cause).toMatchObject({
      kind: "NullConstraintViolation",
      constraint: { fields: ["email"] },
    });
    expect(mapped("INSERT INTO child VALUES (1, 99)").cause).toMatchObject({
      kind: "ForeignKeyConstraintViolation",
      constraint: { foreignKey: {} },
    });
    expect(mapped("SELECT * FROM nope").cause).toMatchObject({ kind: "TableDoesNotExist", table: "nope" });
    expect(mapped("SELECT nope FROM parent").cause).toMatchObject({ kind: "ColumnNotFound", column: "nope" });
    expect(mapped(`SELECT "nope" FROM parent`).cause).toMatchObject({
      kind: "ColumnNotFound",
      column: '"nope" - should this be a string literal in single-quotes?',
    });
    expect(mapped("INSERT INTO parent (nope) VALUES (1)").cause).toMatchObject({
      kind: "ColumnNotFound",
      column: "nope",
    });
  });

  it("anything else is a generic sqlite error, extended code 1 unless better-sqlite3 could not name it", () => {
    expect(mapped("SELEC 1").cause).toMatchObject({ kind: "sqlite", extendedCode: 1, originalCode: "SQLITE_ERROR" });
    db.exec("CREATE TABLE checked (v INTEGER CHECK (v > 0))");
    expect(mapped("INSERT INTO checked VALUES (0)").cause).toMatchObject({
      kind: "sqlite",
      extendedCode: 1,
      originalCode: "SQLITE_CONSTRAINT_CHECK",
    });
    expect(mapSqliteError({ code: "UNKNOWN_SQLITE_ERROR_1300", message: "x" })).toEqual({
      kind: "sqlite",
      extendedCode: 1300,
      message: "x",
    });
  });

  it("RESTRICT foreign keys (SQLITE_CONSTRAINT_TRIGGER) are foreign key violations; a trigger's RAISE() is not", () => {
    db.exec(`
      CREATE TABLE strict_parent (id INTEGER PRIMARY KEY);
      CREATE TABLE strict_child (parent_id INTEGER REFERENCES strict_parent(id) ON DELETE RESTRICT);
      INSERT INTO strict_parent VALUES (1); INSERT INTO strict_child VALUES (1);
    `);
    expect(mapped("DELETE FROM strict_parent").cause).toEqual({
      kind: "ForeignKeyConstraintViolation",
      constraint: { foreignKey: {} },
      originalCode: "SQLITE_CONSTRAINT_TRIGGER",
      originalMessage: "FOREIGN KEY constraint failed",
    });
    db.exec("CREATE TRIGGER no_neg BEFORE INSERT ON strict_parent BEGIN SELECT RAISE(ABORT, 'nope'); END");
    expect(mapped("INSERT INTO strict_parent VALUES (2)").cause).toMatchObject({
      kind: "sqlite",
      extendedCode: 1,
      message: "nope",
    });
  });

  it("busy errors, a stale snapshot included, are SocketTimeout", () => {
    expect(mapSqliteError({ code: "SQLITE_BUSY", message: "database is locked" })).toEqual({ kind: "SocketTimeout" });
    expect(mapSqliteError({ code: "SQLITE_BUSY_TIMEOUT", message: "x" })).toEqual({ kind: "SocketTimeout" });
    expect(mapSqliteError({ code: "SQLITE_BUSY_SNAPSHOT", message: "x" })).toEqual({ kind: "SocketTimeout" });
    expect(mapSqliteError({ code: "UNKNOWN_SQLITE_ERROR_1029", message: "x" })).toEqual({ kind: "SocketTimeout" });
  });
});

describe("guard refusals and other errors", () => {
  it("a NotPrimaryError travels as a sqlite-kind DriverAdapterError that still names the primary", () => {
    const refusal = new NotPrimaryError({ nodeId: "node-b", primary: "node-a", reason: "replica" });
    const error = toAdapterError(refusal) as DriverAdapterError;
    expect(error).toBeInstanceOf(DriverAdapterError);
    expect(error.cause).toMatchObject({ kind: "sqlite", extendedCode: 8, originalCode: "LITEFS_NOT_PRIMARY" });
    expect(error.cause.originalMessage).toContain('the primary is "node-a"');
    expect((error.cause as { cause?: unknown }).cause).toBe(refusal);
    expect(Object.keys(error.cause)).not.toContain("cause");
    // As Prisma wraps it: { code: "P2039", meta: { driverAdapterError } }.
    const prismaLike = { code: "P2039", meta: { driverAdapterError: error } };
    expect(isNotPrimaryError(prismaLike)).toBe(true);
    expect(isSplitBrainError(prismaLike)).toBe(false);
  });

  it("a SplitBrainError likewise", () => {
    const split = new SplitBrainError({ nodeId: "node-b", primary: "node-a", reason: "LiteFS says primary" });
    const prismaLike = { code: "P2010", meta: { driverAdapterError: toAdapterError(split) } };
    expect(isSplitBrainError(prismaLike)).toBe(true);
  });

  it("argument errors become InvalidInputValue; unknown errors pass through", () => {
    expect((toAdapterError(new ArgumentConversionError("argument 1: bad")) as DriverAdapterError).cause).toEqual({
      kind: "InvalidInputValue",
      message: "argument 1: bad",
    });
    const plain = new RangeError("x");
    expect(toAdapterError(plain)).toBe(plain);
    const already = new DriverAdapterError({ kind: "ConnectionClosed" });
    expect(toAdapterError(already)).toBe(already);
  });
});
