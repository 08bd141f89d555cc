// Prisma on a LiteFS node: a temp directory laid out like a LiteFS mount decides the role (the
// /events API is unreachable, so the node answers from the mount files, as in production when
// the stream is down). Replica reads work; writes are refused with a typed Prisma error.
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { loadSettings, type LiteFSSettings } from "../../src/config/index.js";
import { isNotPrimaryError, isSplitBrainError, NotPrimaryError, PrismaLiteFS } from "../../src/driver/prisma/index.js";
import { openNode, type LiteFSNode } from "../../src/node/node.js";
import { createTempMount, type TempMount } from "../support/litefs-mount.js";
import { closedPort } from "../support/migrations/cluster.js";
import { Prisma, PrismaClient } from "../support/generated/prisma/client.js";
import { applyTestSchema } from "../support/prisma/harness.js";

let mount: TempMount;
let apiUrl: string;
const nodes: LiteFSNode[] = [];
const clients: PrismaClient[] = [];

function settingsFor(nodeId: string, primaryHostname = "node-a"): LiteFSSettings {
  return loadSettings(
    {
      enabled: true,
      mountPath: mount.path,
      dataPath: join(mount.path, "..", "data"),
      databaseName: "app.db",
      nodeId,
      primaryHostname,
    },
    {},
  );
}

function clientFor(nodeId: string, primaryHostname = "node-a"): PrismaClient {
  // fileGateCacheMs 0: the tests flip the mount between two statements and want the very next one
  // judged by it (no LiteFS here refuses a write that the cached verdict lets through).
  const node = openNode(settingsFor(nodeId, primaryHostname), {
    apiUrl,
    readyTimeoutMs: 1_000,
    pollIntervalMs: 0,
    fileGateCacheMs: 0,
  });
  nodes.push(node);
  const client = new PrismaClient({ adapter: new PrismaLiteFS({ node }) });
  clients.push(client);
  return client;
}

beforeEach(async () => {
  apiUrl = `http://127.0.0.1:${await closedPort()}`;
  mount = createTempMount({ role: "primary" }, { databaseName: "app.db" });
  applyTestSchema(join(mount.path, "app.db"));
});

afterEach(async () => {
  for (const client of clients.splice(0)) await client.$disconnect();
  for (const node of nodes.splice(0)) await node.close();
  mount.cleanup();
});

async function refusal(work: Promise<unknown>): Promise<unknown> {
  return work.then(
    () => {
      throw new Error("expected the write to be refused");
    },
    (error: unknown) => error,
  );
}

describe("Prisma on a LiteFS replica", () => {
  it("reads work and every kind of write is refused with a typed error naming the primary", async () => {
    const primary = clientFor("node-a");
    await primary.user.create({ data: { email: "seed@x", posts: { create: { title: "hello" } } } });
    await primary.$disconnect();

    mount.setReplica({ primary: "node-a" });
    const replica = clientFor("node-b");

    const users = await replica.user.findMany({ include: { posts: true } });
    expect(users.map((u) => [u.email, u.posts.map((p) => p.title)])).toEqual([["seed@x", ["hello"]]]);
    expect(await replica.$queryRaw`SELECT COUNT(*) AS n FROM "User"`).toEqual([{ n: 1n }]);

    const writes: Array<[string, () => Promise<unknown>]> = [
      ["create", () => replica.user.create({ data: { email: "new@x" } })],
      ["update", () => replica.user.update({ where: { email: "seed@x" }, data: { name: "x" } })],
      ["deleteMany", () => replica.post.deleteMany()],
      ["$executeRaw", () => replica.$executeRaw`DELETE FROM "Post"`],
      ["batch $transaction", () => replica.$transaction([replica.counter.create({ data: { name: "a", value: 1 } })])],
    ];
    for (const [what, write] of writes) {
      const error = await refusal(write());
      expect(error, what).toBeInstanceOf(Prisma.PrismaClientKnownRequestError);
      expect(isNotPrimaryError(error), what).toBe(true);
      expect(isSplitBrainError(error), what).toBe(false);
      expect((error as Error).message, what).toContain('the primary is "node-a"');
    }
    // The original NotPrimaryError is reachable for callers who want its fields.
    const error = (await refusal(
      replica.user.create({ data: { email: "new@x" } }),
    )) as Prisma.PrismaClientKnownRequestError;
    const original = (error.meta as { driverAdapterError: { cause: { cause: unknown } } }).driverAdapterError.cause
      .cause;
    expect(original).toBeInstanceOf(NotPrimaryError);
    expect(original).toMatchObject({ primary: "node-a", nodeId: "node-b", reason: "replica" });

    expect(await replica.user.count()).toBe(1);
  });

  it("an interactive transaction on a replica reads (BEGIN DEFERRED) and its first write is refused", async () => {
    mount.setReplica({ primary: "node-a" });
    const replica = clientFor("node-b");
    let readInside: number | undefined;
    const error = await refusal(
      replica.$transaction(async (tx) => {
        readInside = await tx.user.count();
        await tx.user.create({ data: { email: "tx@x" } });
      }),
    );
    expect(readInside).toBe(0);
    expect(isNotPrimaryError(error)).toBe(true);
    // The refused transaction released the connection: later reads still work.
    expect(await replica.user.count()).toBe(0);
  });

  it("a primary demoted while running refuses writes from then on, cached statements included", async () => {
    const node = clientFor("node-a");
    await node.user.create({ data: { email: "one@x" } });
    // LiteFS lost the lease (static election: node-a stays the designated primary, so this is
    // "replica without a primary", not split brain).
    mount.setReplicaLostPrimary();
    const error = await refusal(node.user.create({ data: { email: "two@x" } }));
    expect(isNotPrimaryError(error)).toBe(true);
    expect((error as Error).message).toContain("no primary is known");
    // Promoted again: writes resume on the same client.
    mount.setPrimary();
    await node.user.create({ data: { email: "three@x" } });
    expect((await node.user.findMany({ orderBy: { id: "asc" } })).map((u) => u.email)).toEqual(["one@x", "three@x"]);
  });

  it("split brain (LiteFS says primary, the static election names another node) refuses writes as split brain", async () => {
    const seeded = clientFor("node-a");
    await seeded.user.create({ data: { email: "seed@x" } });
    // The mount still says "primary", but this node is node-b and primaryHostname is node-a.
    const confused = clientFor("node-b");
    expect(await confused.user.count()).toBe(1);
    const error = await refusal(confused.user.create({ data: { email: "split@x" } }));
    expect(isSplitBrainError(error)).toBe(true);
    expect(isNotPrimaryError(error)).toBe(false);
    expect((error as Error).message).toContain("node-a");
  });
});
