// A real Prisma 7 client (generated offline from test/support/prisma/schema.prisma) on our
// adapter, dev mode: CRUD, every scalar type, transactions, raw queries, error codes.
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { Prisma } from "../support/generated/prisma/client.js";
import {
  createTempSchemaDatabase,
  devClient,
  type PrismaClient,
  type TempSchemaDatabase,
} from "../support/prisma/harness.js";
import Database from "better-sqlite3";

let temp: TempSchemaDatabase;
let prisma: PrismaClient;

beforeEach(() => {
  temp = createTempSchemaDatabase();
  prisma = devClient(temp.file);
});

afterEach(async () => {
  await prisma.$disconnect();
  temp.cleanup();
});

describe("CRUD with relations", () => {
  it("creates, reads with includes, updates and deletes across relations", async () => {
    const user = await prisma.user.create({
      data: {
        email: "ada@example.com",
        name: "Ada",
        role: "ADMIN",
        posts: { create: [{ title: "first", published: true }, { title: "second" }] },
        profile: { create: { bio: "mathematician" } },
      },
      include: { posts: { orderBy: { id: "asc" } }, profile: true },
    });
    expect(user.role).toBe("ADMIN");
    expect(user.posts.map((p) => [p.title, p.published])).toEqual([
      ["first", true],
      ["second", false],
    ]);
    expect(user.posts[0]!.createdAt).toBeInstanceOf(Date);
    expect(user.profile?.bio).toBe("mathematician");

    const published = await prisma.post.findMany({
      where: { published: true, author: { email: "ada@example.com" } },
      include: { author: true },
    });
    expect(published.map((p) => [p.title, p.author.name])).toEqual([["first", "Ada"]]);

    const counted = await prisma.user.findUnique({
      where: { id: user.id },
      include: { _count: { select: { posts: true } } },
    });
    expect(counted?._count.posts).toBe(2);

    await prisma.post.updateMany({ where: { authorId: user.id }, data: { published: true } });
    expect(await prisma.post.count({ where: { published: true } })).toBe(2);

    const renamed = await prisma.user.update({ where: { email: "ada@example.com" }, data: { name: "Ada L." } });
    expect(renamed.name).toBe("Ada L.");

    await prisma.user.delete({ where: { id: user.id } });
    // ON DELETE CASCADE from the DDL: foreign keys are enforced on the connection.
    expect(await prisma.post.count()).toBe(0);
    expect(await prisma.profile.count()).toBe(0);
  });

  it("upserts, paginates and aggregates", async () => {
    for (let i = 0; i < 30; i++) await prisma.user.create({ data: { email: `u${i}@x`, name: i % 2 ? "odd" : "even" } });
    const page = await prisma.user.findMany({ orderBy: { id: "asc" }, skip: 10, take: 5, select: { email: true } });
    expect(page.map((u) => u.email)).toEqual(["u10@x", "u11@x", "u12@x", "u13@x", "u14@x"]);
    const groups = await prisma.user.groupBy({ by: ["name"], _count: { _all: true }, orderBy: { name: "asc" } });
    expect(groups).toEqual([
      { name: "even", _count: { _all: 15 } },
      { name: "odd", _count: { _all: 15 } },
    ]);
    const up = await prisma.user.upsert({
      where: { email: "u3@x" },
      update: { name: "changed" },
      create: { email: "u3@x" },
    });
    expect(up.name).toBe("changed");
    const created = await prisma.user.upsert({ where: { email: "new@x" }, update: {}, create: { email: "new@x" } });
    expect(created.email).toBe("new@x");
    expect(await prisma.user.count()).toBe(31);
  });

  it("passes an IN list far beyond 999 values in one statement (maxBindValues 32766)", async () => {
    await prisma.user.createMany({ data: Array.from({ length: 50 }, (_, i) => ({ email: `m${i}@x` })) });
    const ids = Array.from({ length: 5000 }, (_, i) => i + 1);
    const found = await prisma.user.findMany({ where: { id: { in: ids } } });
    expect(found).toHaveLength(50);
  });
});

describe("scalar types round-trip", () => {
  it("keeps every scalar type exact", async () => {
    const datetime = new Date("2024-05-01T10:20:30.456Z");
    const bytes = new Uint8Array([0, 1, 2, 250, 255]);
    const json = { a: [1, "two", null, { deep: true }], n: 1.5 };
    const created = await prisma.scalars.create({
      data: {
        int: -2147483648,
        bigint: 9223372036854775807n,
        float: 3.141592653589793,
        decimal: new Prisma.Decimal("12345.678901"),
        boolean: true,
        datetime,
        bytes,
        json,
        role: "ADMIN",
        optional: null,
      },
    });
    const read = await prisma.scalars.findUniqueOrThrow({ where: { id: created.id } });
    expect(read.int).toBe(-2147483648);
    expect(read.bigint).toBe(9223372036854775807n);
    expect(read.float).toBe(3.141592653589793);
    expect(read.decimal.toString()).toBe("12345.678901");
    expect(read.boolean).toBe(true);
    expect(read.datetime.toISOString()).toBe(datetime.toISOString());
    expect(Array.from(read.bytes)).toEqual(Array.from(bytes));
    expect(read.json).toEqual(json);
    expect(read.role).toBe("ADMIN");
    expect(read.optional).toBeNull();

    // Filters on each type bind the same representation they were stored with.
    expect(
      await prisma.scalars.count({
        where: { bigint: 9223372036854775807n, datetime, boolean: true, role: "ADMIN", optional: null },
      }),
    ).toBe(1);
    expect(await prisma.scalars.count({ where: { decimal: { gt: new Prisma.Decimal("12345.6789") } } })).toBe(1);
    expect(await prisma.scalars.count({ where: { datetime: { gt: new Date("2024-05-01T10:20:30.455Z") } } })).toBe(1);
  });

  it("stores DateTime as ISO text by default and as epoch milliseconds when asked", async () => {
    const at = new Date("2023-12-31T23:59:59.999Z");
    const base = {
      int: 1,
      bigint: 1n,
      float: 1,
      decimal: 1,
      boolean: false,
      bytes: new Uint8Array(),
      json: {},
      role: "USER" as const,
    };
    await prisma.scalars.create({ data: { ...base, id: "iso", datetime: at } });
    const epochClient = devClient(temp.file, { timestampFormat: "unixepoch-ms" });
    try {
      await epochClient.scalars.create({ data: { ...base, id: "epoch", datetime: at } });
      // Each client reads both formats back as the same instant.
      for (const client of [prisma, epochClient]) {
        const rows = await client.scalars.findMany({ orderBy: { id: "asc" }, select: { id: true, datetime: true } });
        expect(rows.map((r) => [r.id, r.datetime.toISOString()])).toEqual([
          ["epoch", at.toISOString()],
          ["iso", at.toISOString()],
        ]);
      }
    } finally {
      await epochClient.$disconnect();
    }
    const raw = new Database(temp.file, { readonly: true });
    try {
      const stored = raw.prepare(`SELECT id, datetime, typeof(datetime) AS t FROM "Scalars" ORDER BY id`).all();
      expect(stored).toEqual([
        { id: "epoch", datetime: at.getTime(), t: "integer" },
        { id: "iso", datetime: "2023-12-31T23:59:59.999+00:00", t: "text" },
      ]);
    } finally {
      raw.close();
    }
  });

  it("reads SQLite's CURRENT_TIMESTAMP text (column default) as UTC", async () => {
    const user = await prisma.user.create({ data: { email: "d@x" } });
    const before = Date.now();
    await prisma.$executeRaw`INSERT INTO "Post" ("title", "authorId") VALUES ('raw', ${user.id})`;
    const post = await prisma.post.findFirstOrThrow({ where: { title: "raw" } });
    expect(Math.abs(post.createdAt.getTime() - before)).toBeLessThan(5_000);
  });
});

describe("raw queries", () => {
  it("$queryRaw types undeclared columns from their values; numbers and Decimals are bound as REALs", async () => {
    const rows = await prisma.$queryRaw<Array<Record<string, unknown>>>`
      SELECT (SELECT COUNT(*) FROM "User") AS n, x'00ff' AS b, 1.25 AS f, 'text' AS s, NULL AS z,
             ${new Prisma.Decimal("1234567890.123456789012345")} AS d,
             ${9007199254740993n} AS big, ${7} AS i, ${true} AS t`;
    expect(rows).toHaveLength(1);
    const row = rows[0]!;
    expect(row.n).toBe(0n);
    expect(Array.from(row.b as Uint8Array)).toEqual([0, 255]);
    expect(row.f).toBe(1.25);
    expect(row.s).toBe("text");
    expect(row.z).toBeNull();
    // Bound as a REAL, as the official adapter binds it (test/integration/prisma-differential-*).
    expect(row.d).toBe(1234567890.1234567);
    expect(row.big).toBe(9007199254740993n);
    expect(row.i).toBe(7);
    expect(Number(row.t)).toBe(1);
  });

  it("$executeRaw returns affected rows; $queryRawUnsafe binds positional arguments", async () => {
    await prisma.user.createMany({ data: [{ email: "a@x" }, { email: "b@x" }, { email: "c@x" }] });
    const changed = await prisma.$executeRaw`UPDATE "User" SET "name" = ${"bulk"} WHERE "email" <> ${"c@x"}`;
    expect(changed).toBe(2);
    const rows = await prisma.$queryRawUnsafe<Array<{ email: string }>>(
      `SELECT "email" FROM "User" WHERE "name" = ? ORDER BY "email"`,
      "bulk",
    );
    expect(rows.map((r) => r.email)).toEqual(["a@x", "b@x"]);
  });
});

describe("transactions", () => {
  it("interactive $transaction commits, and rolls back when the callback throws", async () => {
    await prisma.$transaction(async (tx) => {
      await tx.counter.create({ data: { name: "a", value: 1 } });
      await tx.counter.update({ where: { name: "a" }, data: { value: { increment: 1 } } });
    });
    await expect(
      prisma.$transaction(async (tx) => {
        await tx.counter.update({ where: { name: "a" }, data: { value: 100 } });
        throw new Error("abort");
      }),
    ).rejects.toThrow("abort");
    expect((await prisma.counter.findUniqueOrThrow({ where: { name: "a" } })).value).toBe(2);
  });

  it("batch $transaction is atomic", async () => {
    const [a, b] = await prisma.$transaction([
      prisma.counter.create({ data: { name: "x", value: 1 } }),
      prisma.counter.create({ data: { name: "y", value: 2 } }),
    ]);
    expect([a.value, b.value]).toEqual([1, 2]);
    await expect(
      prisma.$transaction([
        prisma.counter.create({ data: { name: "z", value: 3 } }),
        prisma.counter.create({ data: { name: "x", value: 4 } }),
      ]),
    ).rejects.toMatchObject({ code: "P2002" });
    expect(await prisma.counter.count()).toBe(2);
  });

  it("nested $transaction uses savepoints: an inner failure rolls back only the inner work", async () => {
    await prisma.$transaction(async (tx) => {
      await tx.counter.create({ data: { name: "outer", value: 1 } });
      await expect(
        (tx as unknown as PrismaClient).$transaction(async (inner) => {
          await inner.counter.create({ data: { name: "inner", value: 2 } });
          throw new Error("inner abort");
        }),
      ).rejects.toThrow("inner abort");
      await (tx as unknown as PrismaClient).$transaction(async (inner) => {
        await inner.counter.create({ data: { name: "inner-ok", value: 3 } });
      });
    });
    const names = (await prisma.counter.findMany({ orderBy: { name: "asc" } })).map((c) => c.name);
    expect(names).toEqual(["inner-ok", "outer"]);
  });

  it("accepts the Serializable isolation level (the adapter unit test covers the refused ones)", async () => {
    await expect(
      prisma.$transaction(async (tx) => tx.counter.count(), {
        isolationLevel: Prisma.TransactionIsolationLevel.Serializable,
      }),
    ).resolves.toBe(0);
  });

  it("concurrent interactive transactions are serialised, none lost", async () => {
    await prisma.counter.create({ data: { name: "c", value: 0 } });
    await Promise.all(
      Array.from({ length: 10 }, () =>
        prisma.$transaction(
          async (tx) => {
            const current = await tx.counter.findUniqueOrThrow({ where: { name: "c" } });
            await new Promise((r) => setTimeout(r, 2));
            await tx.counter.update({ where: { name: "c" }, data: { value: current.value + 1 } });
          },
          { maxWait: 10_000 },
        ),
      ),
    );
    expect((await prisma.counter.findUniqueOrThrow({ where: { name: "c" } })).value).toBe(10);
  });
});

describe("errors", () => {
  it("maps constraint and schema errors to Prisma's codes", async () => {
    await prisma.user.create({ data: { email: "dup@x" } });
    await expect(prisma.user.create({ data: { email: "dup@x" } })).rejects.toMatchObject({
      code: "P2002",
      meta: {
        driverAdapterError: {
          cause: { kind: "UniqueConstraintViolation", constraint: { fields: ["email"] }, table: "User" },
        },
      },
    });
    await expect(prisma.post.create({ data: { title: "orphan", authorId: 999 } })).rejects.toMatchObject({
      code: "P2003",
    });
    await expect(prisma.$executeRaw`INSERT INTO "Counter" ("name", "value") VALUES ('n', NULL)`).rejects.toMatchObject({
      code: "P2010",
      meta: { driverAdapterError: { cause: { kind: "NullConstraintViolation", constraint: { fields: ["value"] } } } },
    });
    await expect(prisma.$queryRaw`SELECT * FROM "Nope"`).rejects.toMatchObject({
      meta: { driverAdapterError: { cause: { kind: "TableDoesNotExist", table: "Nope" } } },
    });
    await expect(prisma.$queryRaw`SELECT "nope" FROM "User"`).rejects.toMatchObject({
      // SQLite's hint stays in the column name, as on the official adapter.
      meta: {
        driverAdapterError: {
          cause: { kind: "ColumnNotFound", column: '"nope" - should this be a string literal in single-quotes?' },
        },
      },
    });
    await expect(prisma.$queryRaw`SELECT syntax error here`).rejects.toMatchObject({
      meta: { driverAdapterError: { cause: { kind: "sqlite", extendedCode: 1 } } },
    });
  });

  it("a missing table reached through the model API is P2021", async () => {
    await prisma.$executeRawUnsafe(`DROP TABLE "Counter"`);
    await expect(prisma.counter.findMany()).rejects.toMatchObject({ code: "P2021" });
  });
});
