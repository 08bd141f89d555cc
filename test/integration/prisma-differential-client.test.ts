// Differential test through the real generated Prisma 7 client: the same code on a client over
// the official @prisma/adapter-better-sqlite3 7.10 and on one over ours, each on its own copy of
// the same database (test/support/prisma/schema.sql). Every step's outcome (returned values, or
// the error's class, Prisma code, message and adapter payload) must be the same, except the
// differences listed in README "Prisma: differences from the official adapter", asserted at the
// end as differences.
import { readFileSync } from "node:fs";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { Prisma, PrismaClient } from "../support/generated/prisma/client.js";
import {
  factoryPair,
  outcome,
  SIDES,
  type FactoryPair,
  type Outcome,
  type Side,
} from "../support/prisma/differential.js";
import { prismaSchemaSqlPath } from "../support/prisma-generate.js";

type Record_ = <T>(work: () => Promise<T>) => Promise<T | undefined>;
type Scenario = (prisma: PrismaClient, step: Record_) => Promise<void>;

let pair: FactoryPair;
let clients: Record<Side, PrismaClient>;

beforeEach(() => {
  pair = factoryPair((db) => db.exec(readFileSync(prismaSchemaSqlPath, "utf8")), { busyTimeoutMs: 200 });
  clients = {
    official: new PrismaClient({ adapter: pair.factories.official }),
    ours: new PrismaClient({ adapter: pair.factories.ours }),
  };
});

afterEach(async () => {
  for (const side of SIDES) await clients[side].$disconnect();
  pair.cleanup();
});

/** Runs the scenario on each side; every step's outcome is recorded, errors do not stop it. */
async function run(scenario: Scenario): Promise<Record<Side, Outcome[]>> {
  const results: Record<Side, Outcome[]> = { official: [], ours: [] };
  for (const side of SIDES) {
    const step: Record_ = async (work) => {
      let value: Awaited<ReturnType<typeof work>> | undefined;
      results[side].push(await outcome(async () => (value = await work())));
      return value;
    };
    await scenario(clients[side], step);
  }
  return results;
}

async function expectSame(scenario: Scenario): Promise<Outcome[]> {
  const results = await run(scenario);
  expect(results.ours).toEqual(results.official);
  return results.ours;
}

// Post.createdAt defaults to now(), computed by Prisma on each side: given explicitly instead.
const T = new Date("2025-06-01T12:00:00.000Z");

const base = {
  int: 1,
  bigint: 1n,
  float: 1.5,
  decimal: new Prisma.Decimal("1.5"),
  boolean: false,
  datetime: new Date("2020-01-01T00:00:00Z"),
  bytes: new Uint8Array([1]),
  json: { a: 1 },
  role: "USER" as const,
};

describe("the official adapter and ours give the same answers through the Prisma client", () => {
  it("1-n, 1-1 and m-n relations: nested writes, includes, relation filters, counts", async () => {
    await expectSame(async (prisma, step) => {
      await step(() =>
        prisma.user.create({
          data: {
            email: "ada@x",
            name: "Ada",
            role: "ADMIN",
            profile: { create: { bio: "maths" } },
            posts: {
              create: [
                { title: "p1", published: true, createdAt: T, tags: { create: [{ name: "a" }, { name: "b" }] } },
                { title: "p2", createdAt: T },
              ],
            },
          },
          include: {
            posts: { include: { tags: { orderBy: { name: "asc" } } }, orderBy: { id: "asc" } },
            profile: true,
          },
        }),
      );
      await step(() =>
        prisma.user.create({
          data: {
            email: "bob@x",
            posts: { create: { title: "p3", createdAt: T, tags: { connect: [{ name: "a" }] } } },
          },
        }),
      );
      await step(() =>
        prisma.post.findMany({
          where: { tags: { some: { name: "a" } } },
          orderBy: { id: "asc" },
          select: { title: true, author: { select: { email: true } } },
        }),
      );
      await step(() =>
        prisma.tag.findMany({ include: { _count: { select: { posts: true } } }, orderBy: { name: "asc" } }),
      );
      await step(() =>
        prisma.user.findMany({ where: { posts: { none: { published: true } } }, select: { email: true } }),
      );
      await step(() =>
        prisma.user.findMany({ orderBy: { posts: { _count: "desc" } }, select: { email: true, _count: true } }),
      );
      await step(() =>
        prisma.post.update({
          where: { id: 1 },
          data: { tags: { set: [{ name: "b" }], connectOrCreate: { where: { name: "c" }, create: { name: "c" } } } },
          include: { tags: { orderBy: { id: "asc" } } },
        }),
      );
      await step(() =>
        prisma.post.update({
          where: { id: 3 },
          data: { tags: { disconnect: [{ name: "a" }] } },
          include: { tags: true },
        }),
      );
      await step(() => prisma.tag.delete({ where: { name: "b" } }));
      await step(() => prisma.post.findUnique({ where: { id: 1 }, include: { tags: true } }));
      await step(() =>
        prisma.profile.update({ where: { userId: 1 }, data: { bio: "logic" }, include: { user: true } }),
      );
      await step(() =>
        prisma.user.update({
          where: { email: "ada@x" },
          data: { profile: { update: { bio: "engines" } } },
          include: { profile: true },
        }),
      );
      // 1-1: a second profile for the same user.
      await step(() => prisma.profile.create({ data: { bio: "again", userId: 1 } }));
      await step(() => prisma.user.delete({ where: { email: "bob@x" } }));
      await step(() => prisma.post.count());
    });
  });

  it("RESTRICT (a required relation's default): deleting or re-keying a user with comments is P2003", async () => {
    const outcomes = await expectSame(async (prisma, step) => {
      await step(() => prisma.user.create({ data: { id: 7, email: "c@x", comments: { create: [{ body: "hi" }] } } }));
      await step(() => prisma.user.delete({ where: { id: 7 } }));
      await step(() => prisma.user.deleteMany({}));
      await step(() => prisma.comment.create({ data: { body: "orphan", authorId: 999 } }));
      await step(() => prisma.$executeRaw`DELETE FROM "User" WHERE "id" = 7`);
      await step(() => prisma.comment.deleteMany({}));
      await step(() => prisma.user.delete({ where: { id: 7 } }));
    });
    expect(outcomes.map((o) => (o.ok ? "ok" : (o.error as { code?: string }).code))).toEqual([
      "ok",
      "P2003",
      "P2003",
      "P2003",
      "P2010",
      "ok",
      "ok",
    ]);
  });

  it("every scalar type: create, read, filter, update, aggregate", async () => {
    await expectSame(async (prisma, step) => {
      await step(() =>
        prisma.scalars.create({
          data: {
            id: "s1",
            int: -2147483648,
            bigint: 9223372036854775807n,
            float: 3.141592653589793,
            decimal: new Prisma.Decimal("12345.678901"),
            boolean: true,
            datetime: new Date("2024-05-01T10:20:30.456Z"),
            bytes: new Uint8Array([0, 1, 2, 250, 255]),
            json: { a: [1, "two", null, { deep: true }], n: 1.5 },
            role: "ADMIN",
            optional: null,
          },
        }),
      );
      await step(() =>
        prisma.scalars.create({
          data: {
            ...base,
            id: "s2",
            int: 7,
            bigint: 9007199254740993n,
            decimal: new Prisma.Decimal("0.1"),
            json: [1, 2],
            optional: "x",
          },
        }),
      );
      await step(() =>
        prisma.scalars.create({
          data: { ...base, id: "s3", float: -0.5, decimal: new Prisma.Decimal("-7"), json: "just text", boolean: true },
        }),
      );
      await step(() => prisma.scalars.findMany({ orderBy: { id: "asc" } }));
      await step(() =>
        prisma.scalars.count({ where: { bigint: 9223372036854775807n, boolean: true, role: "ADMIN", optional: null } }),
      );
      await step(() =>
        prisma.scalars.findMany({
          where: { decimal: { gt: new Prisma.Decimal("0.05") } },
          select: { id: true },
          orderBy: { id: "asc" },
        }),
      );
      await step(() =>
        prisma.scalars.findMany({
          where: { datetime: { gte: new Date("2024-01-01T00:00:00Z") } },
          select: { id: true },
        }),
      );
      await step(() =>
        prisma.scalars.findMany({ where: { float: { lt: 0 }, int: { in: [1, 2, 3] } }, select: { id: true } }),
      );
      await step(() => prisma.scalars.findMany({ where: { optional: { contains: "x" } }, select: { id: true } }));
      await step(() => prisma.scalars.findMany({ where: { json: { equals: [1, 2] } }, select: { id: true } }));
      await step(() =>
        prisma.scalars.update({
          where: { id: "s2" },
          data: {
            int: { increment: 5 },
            bigint: { increment: 1n },
            float: { multiply: 2 },
            decimal: { increment: new Prisma.Decimal("0.2") },
          },
        }),
      );
      await step(() =>
        prisma.scalars.aggregate({
          _sum: { int: true, bigint: true, float: true, decimal: true },
          _avg: { int: true, decimal: true },
          _min: { datetime: true },
          _max: { bigint: true },
          _count: { _all: true },
        }),
      );
      await step(() =>
        prisma.scalars.groupBy({
          by: ["role", "boolean"],
          _count: { _all: true },
          _sum: { float: true },
          orderBy: [{ role: "asc" }, { boolean: "asc" }],
        }),
      );
      await step(() =>
        prisma.scalars.updateMany({ where: { role: "USER" }, data: { role: "ADMIN", bytes: new Uint8Array([9, 9]) } }),
      );
      await step(() =>
        prisma.scalars.findMany({
          where: { role: { in: ["ADMIN"] } },
          select: { id: true, bytes: true, role: true },
          orderBy: { id: "asc" },
        }),
      );
      await step(() => prisma.scalars.deleteMany({ where: { id: { not: "s1" } } }));
    });
  });

  it("compound ids and compound uniques: findUnique, upsert, violations", async () => {
    await expectSame(async (prisma, step) => {
      await step(() => prisma.membership.create({ data: { userId: 1, orgName: "acme", floor: 1, seat: 1 } }));
      await step(() => prisma.membership.findUnique({ where: { userId_orgName: { userId: 1, orgName: "acme" } } }));
      await step(() => prisma.membership.findUnique({ where: { floor_seat: { floor: 1, seat: 1 } } }));
      await step(() =>
        prisma.membership.upsert({
          where: { userId_orgName: { userId: 1, orgName: "acme" } },
          update: { role: "ADMIN" },
          create: { userId: 1, orgName: "acme", floor: 9, seat: 9 },
        }),
      );
      await step(() => prisma.membership.create({ data: { userId: 1, orgName: "acme", floor: 2, seat: 2 } }));
      await step(() => prisma.membership.create({ data: { userId: 2, orgName: "acme", floor: 1, seat: 1 } }));
      await step(() =>
        prisma.membership.update({ where: { userId_orgName: { userId: 5, orgName: "none" } }, data: { seat: 3 } }),
      );
      await step(() => prisma.membership.delete({ where: { floor_seat: { floor: 1, seat: 1 } } }));
    });
  });

  it("queries: pagination, cursors, distinct, select, upsert, createMany, findUniqueOrThrow", async () => {
    await expectSame(async (prisma, step) => {
      await step(() =>
        prisma.user.createMany({
          data: Array.from({ length: 12 }, (_, i) => ({
            email: `u${i}@x`,
            name: i % 3 === 0 ? "three" : null,
            role: i % 2 ? ("ADMIN" as const) : ("USER" as const),
          })),
        }),
      );
      await step(() => prisma.user.findMany({ skip: 3, take: 4, orderBy: { id: "desc" } }));
      await step(() =>
        prisma.user.findMany({ cursor: { id: 5 }, take: 3, skip: 1, orderBy: { id: "asc" }, select: { id: true } }),
      );
      await step(() => prisma.user.findMany({ distinct: ["role"], orderBy: { id: "asc" }, select: { role: true } }));
      await step(() =>
        prisma.user.findMany({
          where: { OR: [{ name: null }, { email: { startsWith: "u1" } }], NOT: { role: "USER" } },
          select: { email: true },
          orderBy: { email: "asc" },
        }),
      );
      await step(() =>
        prisma.user.upsert({ where: { email: "u1@x" }, update: { name: "one" }, create: { email: "u1@x" } }),
      );
      await step(() => prisma.user.upsert({ where: { email: "new@x" }, update: {}, create: { email: "new@x" } }));
      await step(() => prisma.user.findUniqueOrThrow({ where: { email: "missing@x" } }));
      await step(() => prisma.user.findFirst({ where: { email: { endsWith: "@nowhere" } } }));
      await step(() => prisma.user.update({ where: { id: 999 }, data: { name: "nobody" } }));
      await step(() => prisma.user.delete({ where: { id: 999 } }));
      await step(() => prisma.user.create({ data: { email: "u2@x" } }));
      await step(() =>
        prisma.user.findMany({
          where: { id: { in: Array.from({ length: 1500 }, (_, i) => i) } },
          select: { id: true },
        }),
      );
      await step(() => prisma.user.count({ where: { name: { not: null } } }));
    });
  });

  it("transactions: interactive commit and rollback, batch, nested savepoints", async () => {
    await expectSame(async (prisma, step) => {
      await step(() =>
        prisma.$transaction(async (tx) => {
          await tx.counter.create({ data: { name: "a", value: 1 } });
          return tx.counter.update({ where: { name: "a" }, data: { value: { increment: 1 } } });
        }),
      );
      await step(() =>
        prisma.$transaction(async (tx) => {
          await tx.counter.update({ where: { name: "a" }, data: { value: 100 } });
          throw new Error("abort");
        }),
      );
      await step(() =>
        prisma.$transaction([prisma.counter.create({ data: { name: "b", value: 2 } }), prisma.counter.count()]),
      );
      await step(() =>
        prisma.$transaction([
          prisma.counter.create({ data: { name: "c", value: 3 } }),
          prisma.counter.create({ data: { name: "a", value: 4 } }),
        ]),
      );
      await step(() =>
        prisma.$transaction(async (tx) => {
          await tx.counter.create({ data: { name: "outer", value: 1 } });
          await (tx as unknown as PrismaClient)
            .$transaction(async (inner) => {
              await inner.counter.create({ data: { name: "inner", value: 2 } });
              throw new Error("inner abort");
            })
            .catch(() => undefined);
          return tx.counter.findMany({ orderBy: { name: "asc" } });
        }),
      );
      await step(() =>
        prisma.$transaction(async (tx) => tx.counter.count(), {
          isolationLevel: Prisma.TransactionIsolationLevel.Serializable,
        }),
      );
      await step(() => prisma.counter.findMany({ orderBy: { name: "asc" } }));
    });
  });

  it("$queryRaw / $executeRaw: numbers, Decimals, BigInts, booleans, dates, text, bytes columns, JSON and DECIMAL(p,s) columns", async () => {
    await expectSame(async (prisma, step) => {
      await step(
        () => prisma.$queryRaw`SELECT ${42} AS a, ${3} / 2 AS b, ${2} || 'x' AS c, ${1.5} AS d, ${-0.25} * 4 AS e`,
      );
      await step(
        () =>
          prisma.$queryRaw`SELECT ${new Prisma.Decimal("10")} = 10 AS a, ${new Prisma.Decimal("0.1")} + 0.2 AS b, ${new Prisma.Decimal("1234567890.123456789012345")} AS c`,
      );
      await step(
        () =>
          prisma.$queryRaw`SELECT ${9007199254740993n} AS a, ${-5n} * 2 AS b, ${true} AS c, ${false} AS d, ${"text"} AS e, ${null} AS f`,
      );
      await step(() => prisma.$queryRaw`SELECT ${new Date("2024-02-29T12:00:00.000Z")} AS a, ${{ k: [1, 2] }} AS b`);
      await step(() =>
        prisma.$executeRawUnsafe(
          `CREATE TABLE "Extra" ("id" INTEGER PRIMARY KEY, "price" DECIMAL(10,2), "doc" JSON, "meta" JSONB, "label" VARCHAR(20), "note" TEXT)`,
        ),
      );
      await step(
        () =>
          prisma.$executeRaw`INSERT INTO "Extra" ("id", "price", "doc", "meta", "label", "note") VALUES (1, ${12.5}, ${'{"a":1}'}, ${'{"b":2}'}, ${"x"}, ${42})`,
      );
      await step(
        () =>
          prisma.$executeRaw`INSERT INTO "Extra" ("id", "price", "doc", "label", "note") VALUES (2, ${new Prisma.Decimal("3")}, ${"[]"}, ${7}, ${new Prisma.Decimal("10")})`,
      );
      await step(() => prisma.$queryRaw`SELECT * FROM "Extra" ORDER BY "id"`);
      await step(() => prisma.$queryRaw`SELECT typeof("note") AS t, "note" FROM "Extra" ORDER BY "id"`);
      await step(() => prisma.$executeRaw`INSERT INTO "Extra" ("id") VALUES (${9007199254740993n})`);
      await step(
        () =>
          prisma.$queryRaw`SELECT "id", "id" + 0 AS "plus", COUNT(*) OVER () AS n FROM "Extra" WHERE "id" > ${2} ORDER BY "id"`,
      );
      await step(() => prisma.user.createMany({ data: [{ email: "a@x" }, { email: "b@x" }] }));
      await step(() => prisma.$executeRaw`UPDATE "User" SET "name" = ${"bulk"} WHERE "email" <> ${"b@x"}`);
      await step(() =>
        prisma.$queryRawUnsafe(
          `SELECT "email", "role" FROM "User" WHERE "name" = ? OR "id" = ? ORDER BY "email"`,
          "bulk",
          2,
        ),
      );
      await step(
        () =>
          prisma.$queryRaw`SELECT "id", "email", "role" FROM "User" WHERE "email" IN (${Prisma.join(["a@x", "b@x"])}) ORDER BY "id"`,
      );
      await step(() => prisma.scalars.create({ data: { ...base, id: "r1" } }));
      await step(() => prisma.$queryRaw`SELECT * FROM "Scalars"`);
      await step(
        () =>
          prisma.$queryRaw`SELECT COUNT(*) AS n, SUM("float") AS s, AVG("int") AS a, MAX("datetime") AS m FROM "Scalars"`,
      );
    });
  });

  it("errors: unique, foreign key, null, CHECK, missing table and column, syntax, invalid arguments", async () => {
    await expectSame(async (prisma, step) => {
      await step(() => prisma.user.create({ data: { email: "dup@x" } }));
      await step(() => prisma.user.create({ data: { email: "dup@x" } }));
      await step(() => prisma.user.update({ where: { id: 1 }, data: { email: "dup@x" } }));
      await step(() => prisma.post.create({ data: { title: "orphan", authorId: 999 } }));
      await step(() => prisma.$executeRaw`INSERT INTO "Counter" ("name", "value") VALUES ('n', NULL)`);
      await step(() => prisma.$executeRawUnsafe(`CREATE TABLE "Checked" ("v" INTEGER CHECK ("v" > 0))`));
      await step(() => prisma.$executeRaw`INSERT INTO "Checked" ("v") VALUES (${0})`);
      await step(() => prisma.$executeRawUnsafe(`CREATE TABLE "Strict" ("v" INTEGER) STRICT`));
      await step(() => prisma.$executeRaw`INSERT INTO "Strict" ("v") VALUES (${"text"})`);
      await step(() => prisma.$executeRawUnsafe(`CREATE UNIQUE INDEX "User_lower_email" ON "User"(lower("email"))`));
      await step(() => prisma.user.create({ data: { email: "DUP@x" } }));
      await step(() => prisma.$queryRaw`SELECT * FROM "Nope"`);
      await step(() => prisma.$queryRaw`SELECT "nope" FROM "User"`);
      await step(() => prisma.$queryRaw`SELECT nope FROM "User"`);
      await step(() => prisma.$executeRaw`INSERT INTO "User" ("nope") VALUES (1)`);
      await step(() => prisma.$queryRaw`SELECT syntax error here`);
      await step(() => prisma.$executeRawUnsafe(`DROP TABLE "Counter"`));
      await step(() => prisma.counter.findMany());
      await step(() => prisma.counter.create({ data: { name: "x", value: 1 } }));
      await step(() => prisma.user.create({ data: { email: "bad", role: "NOPE" as never } }));
      await step(() => prisma.user.create({ data: { email: "big", id: 2 ** 31 } }));
    });
  });
});

describe("intended differences through the client (README: Prisma, differences from the official adapter)", () => {
  it("a Decimal field holding a whole number beyond 2^53 keeps every digit (official: rounded)", async () => {
    const { official, ours } = await run(async (prisma, step) => {
      await step(() =>
        prisma.scalars.create({ data: { ...base, id: "d", decimal: new Prisma.Decimal("9007199254740993") } }),
      );
      await step(() => prisma.scalars.findUniqueOrThrow({ where: { id: "d" }, select: { decimal: true } }));
    });
    expect(official[1]).toEqual({ ok: true, value: { decimal: { decimal: "9007199254740992" } } });
    expect(ours[1]).toEqual({ ok: true, value: { decimal: { decimal: "9007199254740993" } } });
  });

  it("a trigger's RAISE() is a raw database error with the trigger's message (official: P2003 foreign key)", async () => {
    const { official, ours } = await run(async (prisma, step) => {
      await step(() =>
        prisma.$executeRawUnsafe(
          `CREATE TRIGGER "no_bob" BEFORE INSERT ON "User" WHEN NEW."email" = 'bob@x' BEGIN SELECT RAISE(ABORT, 'no bob'); END`,
        ),
      );
      await step(() => prisma.user.create({ data: { email: "bob@x" } }));
    });
    expect(official[1]).toMatchObject({ ok: false, error: { code: "P2003" } });
    expect(ours[1]).toMatchObject({ ok: false, error: { code: "P2039", message: expect.stringContaining("no bob") } });
  });

  it("a BLOB in an untyped $queryRaw column is returned as bytes (official: an error)", async () => {
    const { official, ours } = await run(async (prisma, step) => {
      await step(() => prisma.$queryRaw`SELECT x'00ff' AS b`);
    });
    expect(official[0]).toMatchObject({ ok: false });
    expect(ours[0]).toEqual({ ok: true, value: [{ b: { bytes: [0, 255] } }] });
  });

  it("a query outside an open interactive transaction waits for it (official: runs inside it and is rolled back with it)", async () => {
    const { official, ours } = await run(async (prisma, step) => {
      let outside: Promise<unknown> = Promise.resolve();
      await step(() =>
        prisma.$transaction(async (tx) => {
          await tx.counter.create({ data: { name: "inside", value: 1 } });
          // Started now (a PrismaPromise runs only once then() is called).
          outside = prisma.counter.create({ data: { name: "outside", value: 2 } }).then((row) => row);
          await new Promise((resolve) => setTimeout(resolve, 30));
          throw new Error("roll back");
        }),
      );
      await step(() => outside);
      await step(() => prisma.counter.findMany({ select: { name: true } }));
    });
    expect(official[2]).toEqual({ ok: true, value: [] });
    expect(ours[2]).toEqual({ ok: true, value: [{ name: "outside" }] });
  });
});
