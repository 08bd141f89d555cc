// litefs-node/prisma against the official @prisma/adapter-better-sqlite3, one Prisma 7 client
// each, same generated client, same schema, same database file, same pragmas. Ours runs twice:
// with the gate fed by the /events stream (a real node following a replay of the recorded LiteFS
// capture: no I/O per check) and with the file-fallback gate (LiteFS API unreachable: every write
// check reads the mount files).
//
// Prisma calls are asynchronous, so this file times them with an async time box; rounds, medians
// and interleaving follow bench/harness.ts.

import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PrismaBetterSqlite3 } from "@prisma/adapter-better-sqlite3";
import { loadSettings, type LiteFSSettings } from "../src/config/index.js";
import { PrismaLiteFS } from "../src/driver/prisma/index.js";
import { createNode, type LiteFSNode } from "../src/election/node.js";
import { startEventsServer } from "../test/support/events-server.js";
import { createTempMount, type TempMount } from "../test/support/litefs-mount.js";
import { ensurePrismaTestClient } from "../test/support/prisma-generate.js";
import { applyTestSchema } from "../test/support/prisma/harness.js";
import { benchOptionsFromEnv, median, type BenchOptions, type BenchRow } from "./harness.js";

// The generated client is imported lazily: it must exist first (generated offline on demand).
type PrismaClientModule = typeof import("../test/support/generated/prisma/client.js");
type Client = InstanceType<PrismaClientModule["PrismaClient"]>;

const SEED_USERS = 2_000;
const SEED_POSTS = 5_000;
const COUNTERS = 10;

type AsyncOp = () => Promise<unknown>;

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

/** Runs `op` back to back for about `ms` milliseconds; returns operations per second. */
async function timeBoxAsync(op: AsyncOp, ms: number): Promise<number> {
  const budget = ms * 1e6;
  const started = process.hrtime.bigint();
  let ops = 0;
  let elapsed = 0;
  while (elapsed < budget) {
    await op();
    ops++;
    elapsed = Number(process.hrtime.bigint() - started);
  }
  return ops / (elapsed / 1e9);
}

/** measureInterleaved (bench/harness.ts) for asynchronous operations. */
async function measureInterleavedAsync(variants: Readonly<Record<string, AsyncOp>>, options: BenchOptions): Promise<Record<string, number>> {
  const names = Object.keys(variants);
  const samples: Record<string, number[]> = {};
  for (const name of names) {
    await timeBoxAsync(variants[name] as AsyncOp, options.warmupMs);
    samples[name] = [];
  }
  for (let round = 0; round < options.rounds; round++) {
    for (let k = 0; k < names.length; k++) {
      const name = names[(round + k) % names.length] as string;
      (samples[name] as number[]).push(await timeBoxAsync(variants[name] as AsyncOp, options.roundMs));
    }
  }
  const result: Record<string, number> = {};
  for (const name of names) result[name] = median(samples[name] as number[]);
  return result;
}

async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

function settingsFor(mount: TempMount, root: string, httpAddr: string): LiteFSSettings {
  return loadSettings(
    { enabled: true, mountPath: mount.path, dataPath: join(root, "data"), databaseName: mount.databaseName, nodeId: "node-a", primaryHostname: "node-a", httpAddr },
    {},
  );
}

async function waitFor(condition: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const started = Date.now();
  while (!condition()) {
    if (Date.now() - started > timeoutMs) throw new Error(`bench: timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

async function seed(client: Client): Promise<void> {
  await client.user.createMany({ data: Array.from({ length: SEED_USERS }, (_, i) => ({ email: `seed-${i}@x`, name: `user ${i}` })) });
  await client.post.createMany({
    data: Array.from({ length: SEED_POSTS }, (_, i) => ({ title: `post ${i}`, published: i % 3 === 0, authorId: (i % SEED_USERS) + 1 })),
  });
  await client.counter.createMany({ data: Array.from({ length: COUNTERS }, (_, i) => ({ name: `c${i}`, value: 0 })) });
}

export async function runPrismaBench(options: BenchOptions = benchOptionsFromEnv(), log: (line: string) => void = console.log): Promise<BenchRow[]> {
  ensurePrismaTestClient();
  const { PrismaClient } = (await import("../test/support/generated/prisma/client.js")) as PrismaClientModule;
  const root = mkdtempSync(join(tmpdir(), "litefs-node-prisma-bench-"));
  const mount = createTempMount({ role: "primary" });
  const closers: (() => unknown)[] = [() => mount.cleanup(), () => rmSync(root, { recursive: true, force: true })];
  try {
    const file = join(mount.path, mount.databaseName);
    applyTestSchema(file);

    const official = new PrismaClient({ adapter: new PrismaBetterSqlite3({ url: file, timeout: 5000 }) });
    closers.unshift(() => official.$disconnect());

    const server = await startEventsServer({ fixture: "primary" });
    closers.unshift(() => server.close());
    const eventsNode: LiteFSNode = await createNode(settingsFor(mount, root, `127.0.0.1:${server.port}`), { pollIntervalMs: 0 });
    closers.unshift(() => eventsNode.close());
    await waitFor(() => eventsNode.snapshot().source === "events", "the node to follow /events");
    const withEvents = new PrismaClient({ adapter: new PrismaLiteFS({ node: eventsNode }) });
    closers.unshift(() => withEvents.$disconnect());

    const filesNode: LiteFSNode = await createNode(settingsFor(mount, root, `127.0.0.1:${await closedPort()}`), {
      pollIntervalMs: 0,
      readyTimeoutMs: 200,
    });
    closers.unshift(() => filesNode.close());
    if (filesNode.snapshot().source !== "files") throw new Error("bench: the file-fallback node is not reading the files");
    const withFiles = new PrismaClient({ adapter: new PrismaLiteFS({ node: filesNode }) });
    closers.unshift(() => withFiles.$disconnect());

    // Same connection settings on all three: WAL (set by the schema setup, persistent in the file),
    // foreign keys on, synchronous=NORMAL (the usual WAL setting; FULL would make every commit an
    // fsync and hide the adapters' cost).
    for (const client of [official, withEvents, withFiles]) {
      await client.$executeRawUnsafe("PRAGMA synchronous = NORMAL");
      await client.$executeRawUnsafe("PRAGMA foreign_keys = ON");
    }
    await seed(withEvents);

    let unique = 0;
    const next = (): number => ++unique;
    const officialCases = cases(official, next);
    const eventsCases = cases(withEvents, next);
    const filesCases = cases(withFiles, next);
    const rows: BenchRow[] = [];
    for (const name of Object.keys(officialCases)) {
      log(`  prisma: ${name} ...`);
      const ops = await measureInterleavedAsync(
        { official: officialCases[name] as AsyncOp, events: eventsCases[name] as AsyncOp, files: filesCases[name] as AsyncOp },
        options,
      );
      const baseline = ops.official as number;
      for (const [variant, label] of [
        ["events", "gate fed by /events"],
        ["files", "file-fallback gate"],
      ] as const) {
        const subject = ops[variant] as number;
        rows.push({ suite: "prisma", case: name, variant: label, baselineOpsPerSec: baseline, subjectOpsPerSec: subject, ratio: subject / baseline });
      }
    }
    return rows;
  } finally {
    for (const close of closers) await close();
  }
}
