// How much of a Prisma call is the driver adapter? Records the exact SqlQuery objects Prisma sends
// for one call of a benchmark case, then times (a) the whole Prisma call and (b) replaying those
// queries straight on the adapter (await adapter.queryRaw / executeRaw, as Prisma does). (a) - (b)
// is Prisma's own work (query compiler, interpreter, result mapping), which no adapter can make
// faster. One adapter per process (as bench/worker.ts), so run it once per adapter:
//
//   npx tsx bench/adapter-share.ts <official|litefs> "<case>" [rounds=7] [round-ms=400]
//   cases: "findUnique by id", "findMany 50 rows" (reads: replaying a write would change the data)

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PrismaBetterSqlite3 } from "@prisma/adapter-better-sqlite3";
import type { SqlDriverAdapter, SqlDriverAdapterFactory, SqlQuery } from "@prisma/driver-adapter-utils";
import Database from "better-sqlite3";
import { mapArgs } from "../src/driver/prisma/conversion.js";
import { PrismaLiteFS } from "../src/driver/prisma/index.js";
import { ensurePrismaTestClient } from "../test/support/prisma-generate.js";
import { applyTestSchema, devSettings } from "../test/support/prisma/schema.js";
import { median, timeBoxAsync } from "./harness.js";

const [which, caseName, roundsText, roundMsText] = process.argv.slice(2);
const rounds = Number(roundsText ?? 7);
const roundMs = Number(roundMsText ?? 400);

/** Wraps a factory so that every adapter it connects records the queries sent while `recording`. */
function recording(factory: SqlDriverAdapterFactory) {
  const state = {
    recording: false,
    queries: [] as { kind: "query" | "execute"; query: SqlQuery }[],
    /** The adapter's own methods, unwrapped: what the replay calls. */
    queryRaw: null as SqlDriverAdapter["queryRaw"] | null,
    executeRaw: null as SqlDriverAdapter["executeRaw"] | null,
  };
  const wrapped: SqlDriverAdapterFactory = {
    provider: factory.provider,
    adapterName: factory.adapterName,
    connect: async () => {
      const adapter = await factory.connect();
      const queryRaw = adapter.queryRaw.bind(adapter);
      const executeRaw = adapter.executeRaw.bind(adapter);
      adapter.queryRaw = (query) => {
        if (state.recording) state.queries.push({ kind: "query", query });
        return queryRaw(query);
      };
      adapter.executeRaw = (query) => {
        if (state.recording) state.queries.push({ kind: "execute", query });
        return executeRaw(query);
      };
      state.queryRaw = queryRaw;
      state.executeRaw = executeRaw;
      return adapter;
    },
  };
  return { wrapped, state };
}

async function main(): Promise<void> {
  if (which !== "official" && which !== "litefs") throw new Error("first argument: official | litefs");
  ensurePrismaTestClient();
  const { PrismaClient } = await import("../test/support/generated/prisma/client.js");
  const dir = mkdtempSync(join(tmpdir(), "litefs-node-adapter-share-"));
  try {
    const file = join(dir, "db");
    applyTestSchema(file);
    const factory: SqlDriverAdapterFactory =
      which === "official"
        ? new PrismaBetterSqlite3({ url: file, timeout: 5000 })
        : new PrismaLiteFS({ settings: devSettings(file) });
    const { wrapped, state } = recording(factory);
    const client = new PrismaClient({ adapter: wrapped });
    await client.$executeRawUnsafe("PRAGMA synchronous = NORMAL");
    await client.user.createMany({
      data: Array.from({ length: 2000 }, (_, i) => ({ email: `seed-${i}@x`, name: `user ${i}` })),
    });
    await client.post.createMany({
      data: Array.from({ length: 5000 }, (_, i) => ({
        title: `post ${i}`,
        published: i % 3 === 0,
        authorId: (i % 2000) + 1,
      })),
    });
    let n = 0;
    const key = (range: number) => (n = (n * 7919 + 17) % range) + 1;
    const ops: Record<string, () => Promise<unknown>> = {
      "findUnique by id": () => client.user.findUnique({ where: { id: key(2000) } }),
      "findMany 50 rows": () =>
        client.post.findMany({ where: { id: { gte: key(4940) } }, orderBy: { id: "asc" }, take: 50 }),
    };
    const op = ops[caseName ?? ""];
    if (op === undefined) throw new Error(`case: one of ${Object.keys(ops).join(", ")}`);
    await op();
    state.recording = true;
    await op();
    state.recording = false;
    const queryRaw = state.queryRaw as SqlDriverAdapter["queryRaw"];
    const executeRaw = state.executeRaw as SqlDriverAdapter["executeRaw"];
    const recorded = state.queries.slice();
    const replay = async (): Promise<void> => {
      for (const { kind, query } of recorded) {
        if (kind === "query") await queryRaw(query);
        else await executeRaw(query);
      }
    };
    await timeBoxAsync(op, 500);
    await timeBoxAsync(replay, 500);
    // The floor under any adapter: the same statements prepared once on a plain better-sqlite3
    // connection, rows as arrays, integers as numbers, no conversion at all.
    const plain = new Database(file, { readonly: true });
    const statements = recorded.map(({ query }) => ({
      stmt: plain.prepare(query.sql).raw(true),
      args: mapArgs(query.args, query.argTypes, "iso8601"),
    }));
    const floor = async (): Promise<void> => {
      for (const { stmt, args } of statements) stmt.all(args);
    };
    const whole: number[] = [];
    const adapterOnly: number[] = [];
    const floorOnly: number[] = [];
    for (let round = 0; round < rounds; round++) {
      whole.push(await timeBoxAsync(op, roundMs));
      adapterOnly.push(await timeBoxAsync(replay, roundMs));
      floorOnly.push(await timeBoxAsync(floor, roundMs));
    }
    plain.close();
    const wholeUs = 1e6 / median(whole);
    const adapterUs = 1e6 / median(adapterOnly);
    const floorUs = 1e6 / median(floorOnly);
    console.log(
      `${which.padEnd(8)} ${caseName}: ${recorded.length} adapter call(s) per Prisma call; whole call ${wholeUs.toFixed(1)} us = ` +
        `adapter ${adapterUs.toFixed(1)} us (${((100 * adapterUs) / wholeUs).toFixed(1)}%; SQLite+better-sqlite3 floor ${floorUs.toFixed(1)} us) ` +
        `+ Prisma's own work ${(wholeUs - adapterUs).toFixed(1)} us`,
    );
    await client.$disconnect();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
