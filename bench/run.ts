// `npm run bench`: litefs-node/drizzle against stock Drizzle, litefs-node/prisma against the
// official Prisma adapter. Each variant runs in its own process (bench/worker.ts); the parent
// times them one at a time, in rotating order, round after round.
// Quick run: BENCH_ROUNDS=3 BENCH_ROUND_MS=100 npm run bench
// Steadier on a busy machine: BENCH_ROUNDS=25 npm run bench
// One variant of one case, for a profiler or an instruction count: bench/ops.ts, bench/instructions.ts

import BetterSqlite3 from "better-sqlite3";
import { DRIZZLE_VARIANTS } from "./drizzle.js";
import {
  benchOptionsFromEnv,
  loadDescription,
  machineDescription,
  measureInterleavedRounds,
  pairedRows,
  printTable,
  type BenchOptions,
  type BenchRow,
  type RoundTimer,
} from "./harness.js";
import { PRISMA_VARIANTS } from "./prisma.js";
import { ensurePrismaTestClient } from "../test/support/prisma-generate.js";
import { startWorker, type BenchWorker } from "./workers.js";

function sqliteVersion(): string {
  const db = new BetterSqlite3(":memory:");
  try {
    return String(db.prepare("SELECT sqlite_version()").pluck().get());
  } finally {
    db.close();
  }
}

/** Every case of one suite: its variants' workers timed in interleaved rounds; rows against `baseline`. */
async function runSuite(suite: string, variants: readonly string[], options: BenchOptions): Promise<BenchRow[]> {
  const workers: BenchWorker[] = [];
  try {
    for (const variant of variants) workers.push(await startWorker(suite, variant));
    const rows: BenchRow[] = [];
    for (const caseName of (workers[0] as BenchWorker).cases) {
      console.log(`  ${suite}: ${caseName} ...`);
      const timers: Record<string, RoundTimer> = {};
      for (const worker of workers) timers[worker.variant] = worker.timer(caseName);
      rows.push(...pairedRows(suite, caseName, await measureInterleavedRounds(timers, options), variants[0] as string));
    }
    return rows;
  } finally {
    for (const worker of workers) await worker.close();
  }
}

async function main(): Promise<void> {
  const options = benchOptionsFromEnv();
  // The Prisma suite needs the generated test client (a fresh clone has none): made offline, once.
  if (ensurePrismaTestClient()) console.log("generated the Prisma test client");
  console.log(`machine: ${machineDescription()}, SQLite ${sqliteVersion()}`);
  console.log(`at start: ${loadDescription()}`);
  console.log(
    `method: each variant in its own process on its own identically seeded file; ${options.rounds} interleaved rounds of ` +
      `${options.roundMs} ms after ${options.warmupMs} ms warm-up per variant; ops/s = median over rounds; ` +
      "ratio = median of per-round paired ratios litefs-node / stock, p25-p75 = their interquartile range " +
      "(BENCH_ROUNDS, BENCH_ROUND_MS, BENCH_WARMUP_MS run it longer)\n",
  );
  const rows: BenchRow[] = [];
  rows.push(...(await runSuite("drizzle", DRIZZLE_VARIANTS, options)));
  rows.push(...(await runSuite("prisma", PRISMA_VARIANTS, options)));
  console.log("");
  printTable(rows);
  console.log(`\nat end: ${loadDescription()}`);
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
