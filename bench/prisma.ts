// litefs-node/prisma against the official @prisma/adapter-better-sqlite3, one Prisma 7 client
// each, same generated client, same schema, same seeded rows, same pragmas, each variant on its own
// file in its own process (bench/worker.ts). Ours runs twice:
// with the gate fed by the /events stream (a real node following a replay of the recorded LiteFS
// capture: no I/O per check) and with the file-fallback gate (LiteFS API unreachable: its gate
// reads the mount files, each read delayed as through LiteFS's FUSE mount).
//
// Prisma calls are asynchronous: timed with the harness's async time box; same rounds,
// interleaving and paired per-round ratios as the Drizzle benchmark.

import { join } from "node:path";
import { PrismaBetterSqlite3 } from "@prisma/adapter-better-sqlite3";
import { PrismaLiteFS } from "../src/driver/prisma/index.js";
// Type-only: erased from the emitted code, so the client is still loaded lazily below.
import type { PrismaClient as Client } from "../test/support/generated/prisma/client.js";
import { ensurePrismaTestClient } from "../test/support/prisma-generate.js";
import { applyTestSchema } from "../test/support/prisma/schema.js";
import { benchScratch, openBenchNode, type BenchSubject } from "./drizzle.js";
import type { AsyncOp } from "./harness.js";

// The generated client is imported lazily: it must exist first (generated offline on demand).

const SEED_USERS = 2_000;
const SEED_POSTS = 5_000;
const COUNTERS = 10;

/** The four operations for one client. `next` spreads keys over the seeded rows. */
function cases(client: Client, unique: () => number): Record<string, AsyncOp> {
  let n = 0;
  const nextKey = (range: number): number => {
    n = (n * 7919 + 17) % range;
    return n + 1;
  };
  return {
    "create (one row)": () => client.user.create({ data: { email: `bench-${unique()}@x`, name: "bench" } }),
    "findUnique by id": () => client.user.findUnique({ where: { id: nextKey(SEED_USERS) } }),
    "findMany 50 rows": () =>
      client.post.findMany({ where: { id: { gte: nextKey(SEED_POSTS - 60) } }, orderBy: { id: "asc" }, take: 50 }),
    "interactive $transaction, 10 statements": () =>
      client.$transaction(async (tx) => {
        for (let i = 0; i < COUNTERS; i++) {
          await tx.counter.update({ where: { name: `c${i}` }, data: { value: { increment: 1 } } });
        }
      }),
  };
}

async function seed(client: Client): Promise<void> {
  await client.user.createMany({
    data: Array.from({ length: SEED_USERS }, (_, i) => ({ email: `seed-${i}@x`, name: `user ${i}` })),
  });
  await client.post.createMany({
    data: Array.from({ length: SEED_POSTS }, (_, i) => ({
      title: `post ${i}`,
      published: i % 3 === 0,
      authorId: (i % SEED_USERS) + 1,
    })),
  });
  await client.counter.createMany({ data: Array.from({ length: COUNTERS }, (_, i) => ({ name: `c${i}`, value: 0 })) });
}

export const PRISMA_VARIANTS = ["official", "events", "files"] as const;
export type PrismaVariant = (typeof PRISMA_VARIANTS)[number];

/**
 * Opens ONE variant on its own freshly seeded file in its own temp mount (bench/worker.ts runs
 * each in its own process): a Prisma client on the official adapter, or on ours with the events-fed
 * or file-fallback gate (bench/drizzle.ts openBenchNode).
 */
export async function openPrismaVariant(variant: PrismaVariant): Promise<BenchSubject<AsyncOp>> {
  ensurePrismaTestClient();
  const { PrismaClient } = await import("../test/support/generated/prisma/client.js");
  const { root, mount, defer, close } = benchScratch("litefs-node-prisma-bench-");
  try {
    const file = join(mount.path, mount.databaseName);
    applyTestSchema(file);
    let client: Client;
    if (variant === "official") {
      client = new PrismaClient({ adapter: new PrismaBetterSqlite3({ url: file, timeout: 5000 }) });
    } else {
      const { node, close: closeNode } = await openBenchNode(variant, mount, root);
      defer(closeNode);
      client = new PrismaClient({ adapter: new PrismaLiteFS({ node }) });
    }
    defer(() => client.$disconnect());

    // Same connection settings on every variant: WAL (set by the schema setup, persistent in the
    // file), foreign keys on, 5 s busy timeout, synchronous=NORMAL (the usual WAL setting; FULL
    // would make every commit an fsync and hide the adapters' cost). Read back, not assumed.
    await client.$executeRawUnsafe("PRAGMA synchronous = NORMAL");
    await client.$executeRawUnsafe("PRAGMA foreign_keys = ON");
    await checkPragmas(client);
    await seed(client);

    let unique = 0;
    return { cases: cases(client, () => ++unique), close };
  } catch (error) {
    await close();
    throw error;
  }
}

async function checkPragmas(client: Client): Promise<void> {
  const read = async (pragma: string): Promise<string> => {
    const rows = await client.$queryRawUnsafe<Record<string, unknown>[]>(`PRAGMA ${pragma}`);
    return String(Object.values(rows[0] ?? {})[0]);
  };
  const settings = {
    journal_mode: await read("journal_mode"),
    synchronous: await read("synchronous"),
    foreign_keys: await read("foreign_keys"),
    busy_timeout: await read("busy_timeout"),
  };
  const expected = { journal_mode: "wal", synchronous: "1", foreign_keys: "1", busy_timeout: "5000" };
  if (JSON.stringify(settings) !== JSON.stringify(expected)) {
    throw new Error(
      `bench: connection settings differ: ${JSON.stringify(settings)}, expected ${JSON.stringify(expected)}`,
    );
  }
}
