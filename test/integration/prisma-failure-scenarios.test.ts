// The three ways the official @prisma/adapter-better-sqlite3 7.10.0 breaks (orm-contracts.md),
// replayed with a real Prisma client on our adapter.
import Database from "better-sqlite3";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  createTempSchemaDatabase,
  devClient,
  type PrismaClient,
  type TempSchemaDatabase,
} from "../support/prisma/harness.js";

let temp: TempSchemaDatabase;
let prisma: PrismaClient;
const others: Database.Database[] = [];

beforeEach(() => {
  temp = createTempSchemaDatabase();
  prisma = devClient(temp.file, { busyTimeoutMs: 100 });
});

afterEach(async () => {
  for (const db of others.splice(0)) if (db.open) db.close();
  await prisma.$disconnect();
  temp.cleanup();
});

function otherConnection(): Database.Database {
  const db = new Database(temp.file);
  others.push(db);
  return db;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("failure scenarios of the official adapter, passing on ours", () => {
  it("(1) a write issued outside an interactive transaction that rolls back survives", async () => {
    let outside: Promise<unknown> | undefined;
    let outsideSettled = false;
    let outsideSettledBeforeRollback: boolean | undefined;
    await expect(
      prisma.$transaction(async (tx) => {
        await tx.counter.create({ data: { name: "inside", value: 1 } });
        // Not `tx`: the application's other work, issued while the transaction is open.
        outside = prisma.counter.create({ data: { name: "outside", value: 2 } }).then((row) => row);
        outside.then(
          () => {
            outsideSettled = true;
          },
          () => {
            outsideSettled = true;
          },
        );
        // Plenty of time for it to run, had it not been made to wait for the transaction.
        await sleep(30);
        outsideSettledBeforeRollback = outsideSettled;
        throw new Error("roll this transaction back");
      }),
    ).rejects.toThrow("roll this transaction back");
    // It waited for the transaction instead of running inside it...
    expect(outsideSettledBeforeRollback).toBe(false);
    await outside;
    // ...so the rollback took only the transaction's own write.
    const names = (await prisma.counter.findMany({ orderBy: { name: "asc" } })).map((c) => c.name);
    expect(names).toEqual(["outside"]);
  });

  it("(2) BEGIN failing with SQLITE_BUSY releases the lock: the next transaction succeeds", async () => {
    await prisma.counter.count(); // connect first
    const locker = otherConnection();
    locker.exec("BEGIN IMMEDIATE");
    const failed = await prisma
      .$transaction(async (tx) => tx.counter.create({ data: { name: "blocked", value: 1 } }), { maxWait: 5_000 })
      .then(
        () => null,
        (error: unknown) => error,
      );
    // busy_timeout (100 ms) ran out at BEGIN IMMEDIATE: Prisma's "operation timed out" code.
    expect(failed).toMatchObject({ code: "P1008" });
    locker.exec("COMMIT");

    const created = await prisma.$transaction(async (tx) => tx.counter.create({ data: { name: "later", value: 2 } }), {
      maxWait: 1_000,
    });
    expect(created.name).toBe("later");
    expect(await prisma.counter.count()).toBe(1);
  });

  it("(3) a COMMIT that fails leaves the adapter usable and the connection out of the transaction", async () => {
    const author = await prisma.user.create({ data: { email: "author@x" } });
    const failed = await prisma
      .$transaction(async (tx) => {
        // Foreign keys checked at COMMIT instead of per statement: the orphan below makes COMMIT fail.
        await tx.$executeRaw`PRAGMA defer_foreign_keys = ON`;
        await tx.post.create({ data: { title: "kept?", authorId: author.id } });
        await tx.$executeRaw`INSERT INTO "Post" ("title", "authorId") VALUES ('orphan', 424242)`;
      })
      .then(
        () => null,
        (error: unknown) => error,
      );
    // Prisma 7 passes a failed COMMIT's adapter error through as is.
    expect(failed).toMatchObject({ name: "DriverAdapterError", cause: { kind: "ForeignKeyConstraintViolation" } });

    // Still usable: outside queries, new transactions; nothing of the failed one committed.
    expect(await prisma.post.count()).toBe(0);
    await prisma.$transaction(async (tx) => {
      await tx.post.create({ data: { title: "after", authorId: author.id } });
    });
    expect((await prisma.post.findMany()).map((p) => p.title)).toEqual(["after"]);
    // Another connection can take the write lock: ours is not stuck inside a transaction.
    const other = otherConnection();
    other.exec("BEGIN IMMEDIATE; COMMIT");
  });
});
