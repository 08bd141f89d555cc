// Prisma on a node that cannot tell its role (no .primary, no .lag in the mount, LiteFS's API
// unreachable): reads run at once and a write is refused at once. PrismaLiteFS used to wait for
// the node's `ready` (up to its 5 s timeout) before the first query.
import { join } from "node:path";
import { afterEach, beforeEach, expect, it } from "vitest";
import type { SqlQuery } from "@prisma/driver-adapter-utils";
import { loadSettings, type LiteFSSettings } from "../../src/config/index.js";
import { isNotPrimaryError, PrismaLiteFS } from "../../src/driver/prisma/index.js";
import { createTempMount, type TempMount } from "../support/litefs-mount.js";
import { closedPort } from "../support/migrations/cluster.js";
import { PrismaClient } from "../support/generated/prisma/client.js";
import { applyTestSchema } from "../support/prisma/harness.js";

let mount: TempMount;
let client: PrismaClient | undefined;

beforeEach(() => {
  mount = createTempMount({ role: "primary" }, { databaseName: "app.db" });
  applyTestSchema(join(mount.path, "app.db"));
  // Neither .primary nor .lag: the mount says nothing about the role.
  mount.removeFile(".lag");
  mount.removeFile(".primary");
});

afterEach(async () => {
  await client?.$disconnect();
  client = undefined;
  mount.cleanup();
});

async function unknownRoleSettings(): Promise<LiteFSSettings> {
  return loadSettings(
    {
      enabled: true,
      mountPath: mount.path,
      dataPath: join(mount.path, "..", "data"),
      databaseName: "app.db",
      nodeId: "node-b",
      primaryHostname: "node-a",
      httpAddr: `127.0.0.1:${await closedPort()}`,
    },
    {},
  );
}

const q = (sql: string): SqlQuery => ({ sql, args: [], argTypes: [] });

it("the adapter connects and reads at once; a write with the role unknown is refused within 100 ms", async () => {
  const factory = new PrismaLiteFS({ settings: await unknownRoleSettings() });
  const connectAt = performance.now();
  const adapter = await factory.connect();
  try {
    // Was the node's ready timeout (5 s) before the first query could run.
    expect(performance.now() - connectAt).toBeLessThan(1_000);
    expect((await adapter.queryRaw(q(`SELECT COUNT(*) FROM "User"`))).rows).toEqual([[0]]);
    const writeAt = performance.now();
    const refused = await adapter.executeRaw(q(`INSERT INTO "User" ("email") VALUES ('x@x')`)).then(
      () => null,
      (error: unknown) => error,
    );
    expect(performance.now() - writeAt).toBeLessThan(100);
    expect(isNotPrimaryError(refused)).toBe(true);
  } finally {
    await adapter.dispose();
  }
});

it("through the Prisma client: the first read and a refused write well within the old 5 s wait", async () => {
  client = new PrismaClient({ adapter: new PrismaLiteFS({ settings: await unknownRoleSettings() }) });
  const startedAt = performance.now();
  expect(await client.user.count()).toBe(0);
  const refused = await client.user.create({ data: { email: "x@x" } }).then(
    () => null,
    (error: unknown) => error,
  );
  // Generous: Prisma loads its query compiler and plans both queries on a loaded machine too.
  expect(performance.now() - startedAt).toBeLessThan(4_000);
  expect(isNotPrimaryError(refused)).toBe(true);
  expect((refused as Error).message).toContain("unknown");
});
