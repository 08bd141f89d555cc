// `npm run bench`: the Drizzle benchmark, then the Prisma one when bench/prisma.ts exists.
// Quick run: BENCH_ROUNDS=3 BENCH_ROUND_MS=100 npm run bench

import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import BetterSqlite3 from "better-sqlite3";
import { runDrizzleBench } from "./drizzle.js";
import { benchOptionsFromEnv, machineDescription, printTable, type BenchRow } from "./harness.js";

interface PrismaBenchModule {
  runPrismaBench(): Promise<BenchRow[]>;
}

function sqliteVersion(): string {
  const db = new BetterSqlite3(":memory:");
  try {
    return String(db.prepare("SELECT sqlite_version()").pluck().get());
  } finally {
    db.close();
  }
}

async function main(): Promise<void> {
  const options = benchOptionsFromEnv();
  console.log(`machine: ${machineDescription()}, SQLite ${sqliteVersion()}`);
  console.log(`method: ${options.rounds} interleaved rounds of ${options.roundMs} ms after ${options.warmupMs} ms warm-up; median ops/s; ratio = litefs-node / stock (drizzle rows: median of per-round paired ratios)\n`);

  const rows: BenchRow[] = await runDrizzleBench(options);

  const prismaBench = join(dirname(fileURLToPath(import.meta.url)), "prisma.ts");
  if (existsSync(prismaBench)) {
    const module = (await import(pathToFileURL(prismaBench).href)) as PrismaBenchModule;
    rows.push(...(await module.runPrismaBench()));
  } else {
    console.log("(bench/prisma.ts not present: Prisma benchmark skipped)");
  }

  console.log("");
  printTable(rows);
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
