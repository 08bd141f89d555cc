// Differential test at the adapter level: the official @prisma/adapter-better-sqlite3 7.10 and
// ours get the same SqlQuery (args and argTypes shaped as Prisma 7 sends them: raw-query numbers
// and Float fields typed "decimal", Decimals as "decimal" text, BigInts as "bigint" text, Dates as
// "datetime" ISO text, Bytes as base64), each on its own copy of the same database. Every answer
// must be the same (values, column types, error kinds, codes and messages), except the
// differences listed in README "Prisma: differences from the official adapter", each asserted
// here as a difference so that it cannot appear or disappear unnoticed.
import type { ArgType, SqlDriverAdapter, SqlQuery } from "@prisma/driver-adapter-utils";
import Database from "better-sqlite3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  connectPair,
  factoryPair,
  outcome,
  SIDES,
  type FactoryPair,
  type Outcome,
  type Side,
} from "../support/prisma/differential.js";

type Scalar = ArgType["scalarType"];
type Arg = readonly [value: unknown, scalarType: Scalar];

const SCHEMA = `
  CREATE TABLE t (
    id INTEGER PRIMARY KEY, txt TEXT, num DECIMAL, dec DECIMAL(10,2), js JSON, jsb JSONB, big BIGINT,
    r REAL, f FLOAT, b BLOB, dt DATETIME, bool BOOLEAN, i INTEGER, vc VARCHAR(20), anything
  );
  CREATE TABLE parent (id INTEGER PRIMARY KEY);
  CREATE TABLE child (
    id INTEGER PRIMARY KEY,
    parent_id INTEGER NOT NULL REFERENCES parent(id) ON DELETE RESTRICT ON UPDATE RESTRICT
  );
  CREATE TABLE soft_child (id INTEGER PRIMARY KEY, parent_id INTEGER REFERENCES parent(id));
  CREATE TABLE uniq (a TEXT, b INTEGER, name TEXT);
  CREATE UNIQUE INDEX uniq_ab ON uniq(a, b);
  CREATE UNIQUE INDEX uniq_lower ON uniq(lower(name));
  CREATE TABLE checked (v INTEGER CHECK (v > 0));
  CREATE TABLE strict_t (v INTEGER) STRICT;
  CREATE TABLE notnull_t (v TEXT NOT NULL, w TEXT NOT NULL);
  CREATE TABLE guarded_t (v INTEGER);
  CREATE TRIGGER guarded_t_no_neg BEFORE INSERT ON guarded_t WHEN NEW.v < 0 BEGIN SELECT RAISE(ABORT, 'negative values are not allowed'); END;
  INSERT INTO parent (id) VALUES (1), (2);
  INSERT INTO child (id, parent_id) VALUES (1, 1);
  INSERT INTO uniq (a, b, name) VALUES ('x', 1, 'Alpha');
`;

function query(sql: string, ...args: Arg[]): SqlQuery {
  return {
    sql,
    args: args.map(([value]) => value),
    argTypes: args.map(([, scalarType]) => ({ scalarType, arity: "scalar" })),
  };
}

const n = (value: number): Arg => [value, "decimal"]; // a JS number in $queryRaw / a Float field
const dec = (text: string): Arg => [text, "decimal"]; // a Prisma.Decimal
const big = (text: string): Arg => [text, "bigint"]; // a BigInt
const str = (text: string): Arg => [text, "string"];
const int = (value: number): Arg => [value, "int"]; // an Int field

type Step = (adapter: SqlDriverAdapter) => Promise<unknown>;
const q =
  (sql: string, ...args: Arg[]): Step =>
  (a) =>
    a.queryRaw(query(sql, ...args));
const x =
  (sql: string, ...args: Arg[]): Step =>
  (a) =>
    a.executeRaw(query(sql, ...args));

let pair: FactoryPair;
let adapters: Record<Side, SqlDriverAdapter>;

beforeAll(async () => {
  pair = factoryPair((db) => db.exec(SCHEMA));
  adapters = await connectPair(pair);
});

afterAll(async () => {
  for (const side of SIDES) await adapters[side]?.dispose();
  pair?.cleanup();
});

/** Runs the steps on both sides in lockstep; returns each side's outcomes. */
async function both(steps: readonly Step[]): Promise<Record<Side, Outcome[]>> {
  const results: Record<Side, Outcome[]> = { official: [], ours: [] };
  for (const step of steps) {
    for (const side of SIDES) results[side].push(await outcome(() => step(adapters[side])));
  }
  return results;
}

/** The result sets without `lastInsertId`, which only ours reports (README: intended). */
function withoutLastInsertId(outcomes: Outcome[]): Outcome[] {
  return outcomes.map((o) => {
    if (!o.ok || o.value === null || typeof o.value !== "object" || !("lastInsertId" in o.value)) return o;
    const { lastInsertId: _dropped, ...rest } = o.value as Record<string, unknown>;
    return { ok: true, value: rest };
  });
}

async function expectSame(steps: readonly Step[]): Promise<Outcome[]> {
  const results = await both(steps);
  expect(withoutLastInsertId(results.ours)).toEqual(withoutLastInsertId(results.official));
  return results.ours;
}

// Each row: a name and the steps whose answers must be identical. The steps of one row run in
// order on both sides (later rows see earlier rows' writes, on both sides alike).
const SAME: ReadonlyArray<readonly [string, readonly Step[]]> = [
  // Item 2: JS numbers bound as REAL, as the official adapter does.
  [
    "raw numbers: ${42}, ${3} / 2, ${2} || 'x', ${1.5}",
    [q("SELECT ? AS a, ? / 2 AS b, ? || 'x' AS c, ? AS d, typeof(?) AS e", n(42), n(3), n(2), n(1.5), n(42))],
  ],
  [
    "a raw number stored in a TEXT column is '42.0'",
    [
      x("INSERT INTO t (id, txt) VALUES (?, ?)", n(100), n(42)),
      q("SELECT txt, typeof(txt) FROM t WHERE id = ?", n(100)),
    ],
  ],
  [
    "BigInt arguments are bound exactly",
    [
      q("SELECT ? AS a, ? + 1 AS b, typeof(?) AS c", big("9007199254740993"), big("-9223372036854775807"), big("1")),
      x("INSERT INTO t (id, big) VALUES (?, ?)", n(101), big("9223372036854775807")),
      q("SELECT big FROM t WHERE id = ?", n(101)),
    ],
  ],
  // Item 3: Decimals compare and compute like the official adapter's REALs.
  [
    "raw Decimals: comparisons without affinity, arithmetic, text",
    [
      q(
        "SELECT ? = 10 AS a, ? + 1 AS b, ? || '' AS c, ? AS d, ? < 0.2 AS e",
        dec("10"),
        dec("0.1"),
        dec("10"),
        dec("1234567890.123456789012345"),
        dec("0.1"),
      ),
      q("SELECT ? AS a, ? AS b, ? AS c", dec("-1e-30"), dec("1e+21"), dec("9007199254740992")),
    ],
  ],
  [
    "Decimals in a DECIMAL column",
    [
      x(
        "INSERT INTO t (id, num) VALUES (?, ?), (?, ?), (?, ?)",
        n(102),
        dec("12.5"),
        n(103),
        dec("7"),
        n(104),
        dec("0.30000000000000004441"),
      ),
      q("SELECT num, typeof(num) FROM t WHERE id IN (102, 103, 104) ORDER BY id"),
      q("SELECT COUNT(*) FROM t WHERE num = ?", dec("12.50")),
    ],
  ],
  // Item 4: DECIMAL(p,s) and JSON columns typed as the official adapter types them.
  [
    "DECIMAL(10,2) read as a number, JSON as text, JSONB as Json, VARCHAR(20) by value",
    [
      x(
        "INSERT INTO t (id, dec, js, jsb, vc) VALUES (?, ?, ?, ?, ?)",
        n(105),
        dec("12.5"),
        str('{"a":[1,2]}'),
        ['{"b":true}', "json"],
        str("hello"),
      ),
      x("INSERT INTO t (id, dec, vc) VALUES (?, ?, ?)", n(106), dec("3.25"), n(7)),
      q("SELECT dec, js, jsb, vc FROM t WHERE id IN (105, 106) ORDER BY id"),
    ],
  ],
  // Item 5: integers beyond 2^53 come back exactly (as text in the result set).
  [
    "integers beyond 2^53 in INTEGER columns, rowid and expressions",
    [
      x("INSERT INTO t (id, i) VALUES (?, ?)", big("9007199254740993"), big("-9007199254740993")),
      q("SELECT id, rowid, i FROM t WHERE id = ?", big("9007199254740993")),
      q("SELECT id, i FROM t WHERE id = ?", big("9007199254740993")),
      q("SELECT id, txt, r FROM t WHERE id >= ? ORDER BY id", n(100)),
      q("SELECT 9007199254740993 AS literal, 2 * 4611686018427387903 AS product, max(id) AS m FROM t"),
      x("DELETE FROM t WHERE id = ?", big("9007199254740993")),
    ],
  ],
  [
    "every scalar type as Prisma writes and reads it",
    [
      x(
        "INSERT INTO t (id, txt, num, big, r, f, b, dt, bool, i, jsb) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        int(107),
        str("héllo"),
        dec("12345.678901"),
        big("-42"),
        n(3.141592653589793),
        n(-0.5),
        ["AAEC/w==", "bytes"],
        ["2024-05-01T10:20:30.456Z", "datetime"],
        [true, "boolean"],
        int(-2147483648),
        ['{"k":[1,null]}', "json"],
      ),
      q("SELECT id, txt, num, big, r, f, b, dt, bool, i, jsb FROM t WHERE id = ?", int(107)),
      q(
        "SELECT COUNT(*) AS c FROM t WHERE dt = ? AND bool = ? AND big = ?",
        ["2024-05-01T10:20:30.456Z", "datetime"],
        [true, "boolean"],
        big("-42"),
      ),
      q("SELECT ? AS e, ? AS u", ["ADMIN", "enum"], [false, "unknown"]),
    ],
  ],
  [
    "epoch-millisecond integers and nulls in DATETIME, untyped and all-null columns",
    [
      x(
        "INSERT INTO t (id, dt, anything) VALUES (?, ?, ?), (?, ?, ?)",
        n(108),
        big("1714558830456"),
        str("text"),
        n(109),
        [null, "datetime"],
        [null, "unknown"],
      ),
      q("SELECT dt, anything, NULL AS z FROM t WHERE id IN (108, 109) ORDER BY id"),
    ],
  ],
  [
    "expression columns typed by their values",
    [
      q("SELECT COUNT(*) AS c, 1.25 AS f, 'x' AS s, NULL AS z, 7 AS i, sum(id) AS total FROM parent"),
      q("SELECT id, CASE WHEN id = 1 THEN 'one' ELSE 2 END AS mixed FROM parent ORDER BY id"),
      q("SELECT * FROM parent WHERE id > 100"),
    ],
  ],
  [
    "a REAL in an INTEGER column is truncated on both sides",
    [x("INSERT INTO t (id, i) VALUES (?, ?)", n(110), n(2.75)), q("SELECT i FROM t WHERE id = ?", n(110))],
  ],
  [
    "writes through queryRaw, executeRaw counts, RETURNING",
    [
      q("UPDATE t SET txt = 'changed' WHERE id IN (100, 101)"),
      x("UPDATE t SET txt = ? WHERE id >= ?", str("again"), n(100)),
      q("INSERT INTO parent (id) VALUES (?) RETURNING id, id * 1.5 AS scaled", n(3)),
      q("DELETE FROM parent WHERE id = ? RETURNING *", n(3)),
    ],
  ],
  // Item 1 and 6: errors, mapped alike.
  [
    "foreign keys: missing parent, RESTRICT on delete and on update",
    [
      x("INSERT INTO child (id, parent_id) VALUES (?, ?)", n(2), n(99)),
      x("DELETE FROM parent WHERE id = ?", n(1)),
      x("UPDATE parent SET id = ? WHERE id = ?", n(10), n(1)),
      x("INSERT INTO soft_child (id, parent_id) VALUES (1, 42)"),
    ],
  ],
  [
    "unique: compound index, primary key, expression index",
    [
      x("INSERT INTO uniq (a, b, name) VALUES (?, ?, ?)", str("x"), n(1), str("other")),
      x("INSERT INTO parent (id) VALUES (?)", n(1)),
      x("INSERT INTO uniq (a, b, name) VALUES (?, ?, ?)", str("y"), n(2), str("ALPHA")),
    ],
  ],
  [
    "NOT NULL, CHECK, STRICT type mismatch",
    [
      x("INSERT INTO notnull_t (v, w) VALUES (NULL, 'x')"),
      x("INSERT INTO checked (v) VALUES (?)", n(0)),
      x("INSERT INTO strict_t (v) VALUES (?)", str("not a number")),
    ],
  ],
  [
    "missing table and column (with SQLite's hint), syntax error, bad arity",
    [
      q("SELECT * FROM nope"),
      q("SELECT nope FROM parent"),
      q(`SELECT "nope" FROM parent`),
      x("INSERT INTO parent (nope) VALUES (1)"),
      q("SELEC 1"),
      q("SELECT * FROM main.nope"),
    ],
  ],
];

describe("the official adapter and ours give the same answers", () => {
  for (const [name, steps] of SAME) {
    it(name, async () => {
      await expectSame(steps);
    });
  }

  it("SQLITE_BUSY and a stale WAL snapshot (SQLITE_BUSY_SNAPSHOT) are both SocketTimeout", async () => {
    const busyPair = factoryPair((db) => db.exec("CREATE TABLE k (v INTEGER)"), { busyTimeoutMs: 50 });
    const busy = await connectPair(busyPair);
    try {
      const results: Record<Side, Outcome[]> = { official: [], ours: [] };
      for (const side of SIDES) {
        const other = new Database(busyPair.files[side]);
        try {
          // Another connection holds the write lock: the write times out.
          other.exec("BEGIN IMMEDIATE");
          results[side].push(await outcome(() => busy[side].executeRaw(query("INSERT INTO k VALUES (1)"))));
          other.exec("ROLLBACK");
          // A read transaction whose snapshot another connection's commit has made stale.
          await busy[side].executeScript("BEGIN");
          await busy[side].queryRaw(query("SELECT COUNT(*) FROM k"));
          other.exec("INSERT INTO k VALUES (2)");
          results[side].push(await outcome(() => busy[side].executeRaw(query("INSERT INTO k VALUES (3)"))));
          await busy[side].executeScript("ROLLBACK");
        } finally {
          other.close();
        }
      }
      expect(results.ours).toEqual(results.official);
      expect(
        results.ours.map((o) => (o.ok ? null : (o.error as { cause: { kind: string; originalCode: string } }).cause)),
      ).toEqual([
        { kind: "SocketTimeout", originalCode: "SQLITE_BUSY", originalMessage: "database is locked" },
        { kind: "SocketTimeout", originalCode: "SQLITE_BUSY_SNAPSHOT", originalMessage: "database is locked" },
      ]);
    } finally {
      for (const side of SIDES) await busy[side].dispose();
      busyPair.cleanup();
    }
  });

  it("the specific answers the issue names", async () => {
    // Pinned, so that "same as official" cannot mean "both wrong the same new way" unnoticed.
    const [numbers, text] = await expectSame([
      q("SELECT ? AS a, ? / 2 AS b, ? || 'x' AS c", n(42), n(3), n(2)),
      q("SELECT ? = 10 AS eq", dec("10")),
    ]);
    expect(numbers).toMatchObject({ ok: true, value: { rows: [[42, 1.5, "2.0x"]] } });
    expect(text).toMatchObject({ ok: true, value: { rows: [[1]] } });
    const [restrict, check, strict, column, expression] = await expectSame([
      x("DELETE FROM parent WHERE id = 1"),
      x("INSERT INTO checked (v) VALUES (-1)"),
      x("INSERT INTO strict_t (v) VALUES ('x')"),
      q(`SELECT "nope" FROM parent`),
      x("INSERT INTO uniq (a, b, name) VALUES ('q', 9, 'alpha')"),
    ]);
    expect(restrict).toMatchObject({
      ok: false,
      error: { cause: { kind: "ForeignKeyConstraintViolation", originalCode: "SQLITE_CONSTRAINT_TRIGGER" } },
    });
    expect(check).toMatchObject({
      ok: false,
      error: { cause: { kind: "sqlite", extendedCode: 1, originalCode: "SQLITE_CONSTRAINT_CHECK" } },
    });
    expect(strict).toMatchObject({
      ok: false,
      error: { cause: { kind: "sqlite", extendedCode: 1, originalCode: "SQLITE_CONSTRAINT_DATATYPE" } },
    });
    expect(column).toMatchObject({
      ok: false,
      error: {
        cause: { kind: "ColumnNotFound", column: '"nope" - should this be a string literal in single-quotes?' },
      },
    });
    expect(expression).toMatchObject({
      ok: false,
      error: { cause: { kind: "UniqueConstraintViolation", constraint: { fields: ["index 'uniq_lower'"] } } },
    });
  });
});

describe("intended differences (README: Prisma, differences from the official adapter)", () => {
  it("a Decimal that is a whole number beyond 2^53 is bound exactly (official: rounded through parseFloat)", async () => {
    const { official, ours } = await both([
      x("INSERT INTO t (id, num) VALUES (?, ?)", n(200), dec("9007199254740993")),
      q("SELECT num, ? AS bound FROM t WHERE id = ?", dec("-9007199254740993"), n(200)),
    ]);
    expect(official[1]).toMatchObject({ ok: true, value: { rows: [["9007199254740992", -9007199254740992]] } });
    expect(ours[1]).toMatchObject({ ok: true, value: { rows: [["9007199254740993", "-9007199254740993"]] } });
  });

  it("an untyped column holding an integer first and a REAL later is not truncated (official: 12.5 read as 12)", async () => {
    const { official, ours } = await both([
      x("INSERT INTO t (id, dec) VALUES (?, ?), (?, ?)", n(201), dec("12"), n(202), dec("12.5")),
      q("SELECT dec FROM t WHERE id IN (201, 202) ORDER BY id"),
    ]);
    // Official: Int64 (BigInt in Prisma), the REAL truncated. Ours: UnknownNumber (number).
    expect(official[1]).toMatchObject({ ok: true, value: { columnTypes: [1], rows: [[12], [12]] } });
    expect(ours[1]).toMatchObject({ ok: true, value: { columnTypes: [128], rows: [[12], [12.5]] } });
  });

  it("a trigger's RAISE() stays a sqlite error with its message (official: a foreign key violation, P2003)", async () => {
    const { official, ours } = await both([x("INSERT INTO guarded_t (v) VALUES (?)", n(-1))]);
    expect(official[0]).toMatchObject({
      ok: false,
      error: { cause: { kind: "ForeignKeyConstraintViolation", originalCode: "SQLITE_CONSTRAINT_TRIGGER" } },
    });
    expect(ours[0]).toMatchObject({
      ok: false,
      error: {
        cause: {
          kind: "sqlite",
          extendedCode: 1,
          message: "negative values are not allowed",
          originalCode: "SQLITE_CONSTRAINT_TRIGGER",
        },
      },
    });
  });

  it("a BLOB in an untyped column is returned as Bytes (official: UnexpectedTypeError)", async () => {
    const { official, ours } = await both([q("SELECT x'00ff' AS b")]);
    expect(official[0]).toMatchObject({ ok: false, error: { name: "UnexpectedTypeError" } });
    expect(ours[0]).toEqual({
      ok: true,
      value: { columnNames: ["b"], columnTypes: [13], rows: [[{ bytes: [0, 255] }]] },
    });
  });

  it("a list argument is bound as a JSON array (official: better-sqlite3's TypeError)", async () => {
    const list: SqlQuery = {
      sql: "SELECT ? AS l",
      args: [[1, 2]],
      argTypes: [{ scalarType: "decimal", arity: "list" }],
    };
    const { official, ours } = await both([(a) => a.queryRaw(list)]);
    expect(official[0]).toMatchObject({ ok: false, error: { name: "TypeError" } });
    expect(ours[0]).toMatchObject({ ok: true, value: { rows: [["[1,2]"]] } });
  });

  it("malformed numeric text is refused (official: parseInt/parseFloat keep the leading digits)", async () => {
    const { official, ours } = await both([q("SELECT ? AS a", ["12abc", "int"]), q("SELECT ? AS a", dec("1,5"))]);
    expect(official.map((o) => o.ok && (o.value as { rows: unknown[] }).rows)).toEqual([[[12]], [[1]]]);
    expect(ours.map((o) => !o.ok && (o.error as { cause: { kind: string } }).cause.kind)).toEqual([
      "InvalidInputValue",
      "InvalidInputValue",
    ]);
  });

  it("a write through queryRaw also reports lastInsertId", async () => {
    const { official, ours } = await both([q("INSERT INTO parent (id) VALUES (?)", n(50))]);
    expect(official[0]).toEqual({ ok: true, value: { columnNames: [], columnTypes: [], rows: [] } });
    expect(ours[0]).toEqual({ ok: true, value: { columnNames: [], columnTypes: [], rows: [], lastInsertId: "50" } });
  });
});
