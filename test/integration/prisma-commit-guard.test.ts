// Prisma's interactive transactions end with a COMMIT it sends itself (executeRaw, or the
// adapter's commit() when no COMMIT was sent). The gate closing between the transaction's writes
// and that COMMIT must roll the transaction back: checked from a second connection, on a real
// node whose gate reads a temp LiteFS mount (its /events API is unreachable).
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { loadSettings } from "../../src/config/index.js";
import { isSplitBrainError, PrismaLiteFS } from "../../src/driver/prisma/index.js";
import { openNode, type LiteFSNode } from "../../src/node/node.js";
import { createTempMount, type TempMount } from "../support/litefs-mount.js";
import { closedPort } from "../support/migrations/cluster.js";
import { PrismaClient } from "../support/generated/prisma/client.js";
import { applyTestSchema } from "../support/prisma/harness.js";

let mount: TempMount;
let file: string;
let node: LiteFSNode;
const clients: PrismaClient[] = [];

/** Counter names as a second connection sees them: what is committed. */
function committedCounters(): string[] {
  const plain = new Database(file, { readonly: true });
  try {
    return plain.prepare(`SELECT name FROM "Counter" ORDER BY name`).pluck().all() as string[];
  } finally {
    plain.close();
  }
}

beforeEach(async () => {
  mount = createTempMount({ role: "primary" }, { databaseName: "app.db" });
  file = join(mount.path, "app.db");
  applyTestSchema(file);
  const settings = loadSettings(
    {
      enabled: true,
      mountPath: mount.path,
      dataPath: join(mount.path, "..", "data"),
      databaseName: "app.db",
      nodeId: "node-a",
      primaryHostname: "node-a",
    },
    {},
  );
  // No verdict cache: the test flips the mount and must be seen by the very next check.
  node = openNode(settings, {
    apiUrl: `http://127.0.0.1:${await closedPort()}`,
    readyTimeoutMs: 1_000,
    pollIntervalMs: 0,
    fileGateCacheMs: 0,
  });
});

afterEach(async () => {
  for (const client of clients.splice(0)) await client.$disconnect();
  await node.close();
  mount.cleanup();
});

describe("Prisma: the gate closing before COMMIT rolls the transaction back (17.1)", () => {
  it("interactive $transaction: COMMIT sent through executeRaw is refused with SplitBrainError; nothing lands", async () => {
    const prisma = new PrismaClient({ adapter: new PrismaLiteFS({ node }) });
    clients.push(prisma);
    await prisma.counter.create({ data: { name: "before", value: 0 } });
    const failure = await prisma
      .$transaction(async (tx) => {
        await tx.counter.create({ data: { name: "in-tx", value: 1 } });
        // LiteFS now names node-b as primary while the election names node-a: split brain.
        mount.setReplica({ primary: "node-b" });
      })
      .then(
        () => null,
        (error: unknown) => error,
      );
    expect(failure).not.toBeNull();
    expect(isSplitBrainError(failure)).toBe(true);
    expect(committedCounters()).toEqual(["before"]);
    // Once LiteFS and the election agree again, the connection works and the old write stays gone.
    mount.setPrimary();
    await prisma.counter.create({ data: { name: "after", value: 2 } });
    expect(committedCounters()).toEqual(["after", "before"]);
  });

  it("the adapter's commit() (no COMMIT sent by Prisma) is refused the same way", async () => {
    const adapter = await new PrismaLiteFS({ node }).connect();
    try {
      const tx = await adapter.startTransaction();
      await tx.executeRaw({ sql: `INSERT INTO "Counter" (name, value) VALUES ('in-tx', 1)`, args: [], argTypes: [] });
      mount.setReplica({ primary: "node-b" });
      const failure = await tx.commit().then(
        () => null,
        (error: unknown) => error,
      );
      expect(isSplitBrainError(failure)).toBe(true);
      expect(committedCounters()).toEqual([]);
      // The lock was handed back: the adapter keeps working.
      mount.setPrimary();
      expect(
        await adapter.executeRaw({
          sql: `INSERT INTO "Counter" (name, value) VALUES ('later', 2)`,
          args: [],
          argTypes: [],
        }),
      ).toBe(1);
      expect(committedCounters()).toEqual(["later"]);
    } finally {
      await adapter.dispose();
    }
  });
});
