// The adapter driven directly, the way Prisma's query engine drives it (real GuardedDatabase on a
// temp file, dev mode).
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ColumnTypeEnum, type SqlDriverAdapter, type SqlQuery } from "@prisma/driver-adapter-utils";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { loadSettings } from "../../src/config/index.js";
import { PrismaLiteFS } from "../../src/driver/prisma/index.js";

let dir: string;
let adapter: SqlDriverAdapter;

const q = (sql: string, args: unknown[] = []): SqlQuery => ({
  sql,
  args,
  argTypes: args.map(() => ({ scalarType: "unknown" as const, arity: "scalar" as const })),
});

function factory(options: ConstructorParameters<typeof PrismaLiteFS>[0] = {}): PrismaLiteFS {
  return new PrismaLiteFS({
    settings: loadSettings({ enabled: false, devDatabasePath: join(dir, "db") }, {}),
    ...options,
  });
}

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), "litefs-node-prisma-adapter-"));
  adapter = await factory().connect();
  await adapter.executeScript(`
    CREATE TABLE item (id INTEGER PRIMARY KEY, name TEXT NOT NULL, price DECIMAL, at DATETIME);
    CREATE TABLE parent (id INTEGER PRIMARY KEY);
    CREATE TABLE child (id INTEGER PRIMARY KEY, parent_id INTEGER NOT NULL REFERENCES parent(id));
  `);
});

afterEach(async () => {
  await adapter.dispose();
  rmSync(dir, { recursive: true, force: true });
});

describe("queries", () => {
  it("returns column names, types and converted rows; executeRaw returns changes", async () => {
    expect(
      await adapter.executeRaw(
        q("INSERT INTO item (name, price, at) VALUES (?, ?, ?), (?, ?, ?)", ["a", "1.50", 0, "b", null, null]),
      ),
    ).toBe(2);
    const result = await adapter.queryRaw(q("SELECT id, name, price, at, id * 2 AS twice FROM item ORDER BY id"));
    expect(result.columnNames).toEqual(["id", "name", "price", "at", "twice"]);
    expect(result.columnTypes).toEqual([
      ColumnTypeEnum.Int32,
      ColumnTypeEnum.Text,
      ColumnTypeEnum.Numeric,
      ColumnTypeEnum.DateTime,
      ColumnTypeEnum.Int64,
    ]);
    expect(result.rows).toEqual([
      [1, "a", 1.5, "1970-01-01T00:00:00.000Z", 2],
      [2, "b", null, null, 4],
    ]);
    // A write through queryRaw (Prisma does this for statements it expects nothing from).
    const insert = await adapter.queryRaw(q("INSERT INTO item (name) VALUES ('c')"));
    expect(insert).toMatchObject({ columnNames: [], rows: [], lastInsertId: "3" });
  });

  it("reports SQLite's real bind limit", () => {
    expect(adapter.getConnectionInfo?.()).toEqual({ maxBindValues: 32766, supportsRelationJoins: false });
  });

  it("sees schema changes made after a statement was cached", async () => {
    await adapter.executeRaw(q("INSERT INTO item (name) VALUES ('a')"));
    expect((await adapter.queryRaw(q("SELECT * FROM item"))).columnNames).toEqual(["id", "name", "price", "at"]);
    await adapter.executeRaw(q("ALTER TABLE item ADD COLUMN extra TEXT"));
    expect((await adapter.queryRaw(q("SELECT * FROM item"))).columnNames).toEqual([
      "id",
      "name",
      "price",
      "at",
      "extra",
    ]);
  });
});

describe("transactions", () => {
  it("a query outside an open transaction waits for it instead of running inside it", async () => {
    const tx = await adapter.startTransaction();
    expect(tx.options).toEqual({ usePhantomQuery: false });
    await tx.executeRaw(q("INSERT INTO item (name) VALUES ('in-tx')"));
    let outsideDone = false;
    const outside = adapter.executeRaw(q("INSERT INTO item (name) VALUES ('outside')")).then((n) => {
      outsideDone = true;
      return n;
    });
    await new Promise((r) => setTimeout(r, 20));
    expect(outsideDone).toBe(false);
    await tx.executeRaw(q("ROLLBACK"));
    await tx.rollback();
    expect(await outside).toBe(1);
    expect((await adapter.queryRaw(q("SELECT name FROM item"))).rows).toEqual([["outside"]]);
  });

  it("transactions queue in FIFO order", async () => {
    const order: string[] = [];
    const first = await adapter.startTransaction();
    const second = adapter.startTransaction().then(async (tx) => {
      order.push("second");
      await tx.executeRaw(q("COMMIT"));
      await tx.commit();
    });
    const query = adapter.queryRaw(q("SELECT 1")).then(() => order.push("query"));
    order.push("first");
    await first.executeRaw(q("COMMIT"));
    await first.commit();
    await Promise.all([second, query]);
    expect(order).toEqual(["first", "second", "query"]);
  });

  it("only SERIALIZABLE (or nothing) is accepted as isolation level", async () => {
    await expect(adapter.startTransaction("READ COMMITTED")).rejects.toMatchObject({
      name: "DriverAdapterError",
      cause: { kind: "InvalidIsolationLevel", level: "READ COMMITTED" },
    });
    const tx = await adapter.startTransaction("SERIALIZABLE");
    await tx.executeRaw(q("COMMIT"));
    await tx.commit();
  });

  it("a BEGIN that throws releases the lock", async () => {
    await adapter.executeScript("BEGIN"); // the connection is already inside a transaction
    await expect(adapter.startTransaction()).rejects.toMatchObject({ name: "DriverAdapterError" });
    // Not stuck: the next operations get the lock at once.
    await adapter.executeScript("ROLLBACK");
    const tx = await adapter.startTransaction();
    await tx.executeRaw(q("COMMIT"));
    await tx.commit();
  });

  it("rollback() after a failed COMMIT ends the transaction", async () => {
    const tx = await adapter.startTransaction();
    await tx.executeRaw(q("PRAGMA defer_foreign_keys = ON"));
    await tx.executeRaw(q("INSERT INTO child VALUES (1, 42)"));
    await expect(tx.executeRaw(q("COMMIT"))).rejects.toMatchObject({
      cause: { kind: "ForeignKeyConstraintViolation" },
    });
    await tx.rollback(); // what Prisma calls when its COMMIT failed
    expect((await adapter.queryRaw(q("SELECT COUNT(*) FROM child"))).rows).toEqual([[0]]);
    const next = await adapter.startTransaction(); // BEGIN would fail if still inside the old one
    await next.executeRaw(q("COMMIT"));
    await next.commit();
  });

  it("commit() completes a transaction whose COMMIT was not sent; a closed transaction refuses queries", async () => {
    const tx = await adapter.startTransaction();
    await tx.executeRaw(q("INSERT INTO item (name) VALUES ('kept')"));
    await tx.commit();
    expect((await adapter.queryRaw(q("SELECT name FROM item"))).rows).toEqual([["kept"]]);
    await expect(tx.queryRaw(q("SELECT 1"))).rejects.toMatchObject({ cause: { kind: "TransactionAlreadyClosed" } });
    await tx.rollback(); // idempotent: no double release
  });

  it("savepoints roll back nested work only; bad names are refused", async () => {
    const tx = await adapter.startTransaction();
    await tx.executeRaw(q("INSERT INTO item (name) VALUES ('outer')"));
    await tx.createSavepoint!("prisma_sp_1");
    await tx.executeRaw(q("INSERT INTO item (name) VALUES ('inner')"));
    await tx.rollbackToSavepoint!("prisma_sp_1");
    await tx.releaseSavepoint!("prisma_sp_1");
    await expect(tx.createSavepoint!("x; DROP TABLE item")).rejects.toMatchObject({
      cause: { kind: "InvalidInputValue" },
    });
    await tx.executeRaw(q("COMMIT"));
    await tx.commit();
    expect((await adapter.queryRaw(q("SELECT name FROM item"))).rows).toEqual([["outer"]]);
  });
});

describe("lifecycle and options", () => {
  it("dispose closes the connection; later calls fail with ConnectionClosed", async () => {
    const other = await factory().connect();
    await other.dispose();
    await other.dispose();
    await expect(other.queryRaw(q("SELECT 1"))).rejects.toMatchObject({ cause: { kind: "ConnectionClosed" } });
    await expect(other.startTransaction()).rejects.toMatchObject({ cause: { kind: "ConnectionClosed" } });
  });

  it("the shadow database is a separate in-memory database", async () => {
    const shadow = await factory().connectToShadowDb();
    await shadow.executeScript("CREATE TABLE scratch (x)");
    expect((await shadow.queryRaw(q("SELECT name FROM sqlite_master WHERE name = 'item'"))).rows).toEqual([]);
    await shadow.dispose();
  });

  it("rejects bad options with the option's name", () => {
    expect(() => factory({ timestampFormat: "unix" as never })).toThrow(/timestampFormat/);
    expect(() => factory({ statementCacheSize: 1.5 })).toThrow(/statementCacheSize/);
    expect(new PrismaLiteFS()).toMatchObject({ provider: "sqlite", adapterName: "litefs-node" });
  });
});

describe("a node demoted between the writability check and BEGIN", () => {
  it("falls back to a read transaction whose writes are refused", async () => {
    const { GuardedDatabase } = await import("../../src/driver/guarded-database.js");
    const { Connection } = await import("../../src/driver/prisma/connection.js");
    const { LiteFSPrismaAdapter } = await import("../../src/driver/prisma/adapter.js");
    const { NotPrimaryError, isNotPrimaryError } = await import("../../src/errors.js");
    // A gate that says "writable" exactly once (the adapter's check), then refuses.
    let checks = 0;
    const gate = {
      assertWritable(): void {
        if (++checks > 2) throw new NotPrimaryError({ nodeId: "node-a", primary: "node-b", reason: "replica" });
      },
    };
    const db = new GuardedDatabase(join(dir, "db"), { gate }); // opening checks once
    const demoted = new LiteFSPrismaAdapter(new Connection(db, { timestampFormat: "iso8601", statementCacheSize: 16 }));
    try {
      const tx = await demoted.startTransaction();
      expect(checks).toBe(3); // open, isWritable() (yes), BEGIN IMMEDIATE's guard (refused)
      expect((await tx.queryRaw(q("SELECT COUNT(*) FROM item"))).rows).toEqual([[0]]);
      const refused = await tx.executeRaw(q("INSERT INTO item (name) VALUES ('x')")).catch((e: unknown) => e);
      expect(isNotPrimaryError(refused)).toBe(true);
      await tx.executeRaw(q("ROLLBACK"));
      await tx.rollback();
    } finally {
      await demoted.dispose();
    }
  });
});
