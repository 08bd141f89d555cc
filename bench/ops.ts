// Runs ONE variant of ONE benchmark case a fixed number of times, for tools that measure a whole
// process: `node --cpu-prof`, or valgrind's instruction counter (bench/instructions.ts).
//
//   node --import tsx bench/ops.ts <drizzle|prisma> <case> <variant> <ops> [warmup-ops]
//   e.g. node --cpu-prof --import tsx bench/ops.ts drizzle "autocommit single-row insert" events 200000
//
// Variants: drizzle: stock | events | files; prisma: official | events | files.
// Prints the elapsed time of the timed ops (after the warm-up ops) to stderr.

import { DRIZZLE_VARIANTS, openDrizzleVariant, type DrizzleVariant } from "./drizzle.js";
import { openPrismaVariant, PRISMA_VARIANTS, type PrismaVariant } from "./prisma.js";

function usage(message: string): never {
  console.error(`bench/ops.ts: ${message}\nusage: bench/ops.ts <drizzle|prisma> <case> <variant> <ops> [warmup-ops]`);
  process.exit(2);
}

function count(raw: string | undefined, name: string, fallback?: number): number {
  if (raw === undefined && fallback !== undefined) return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 0) usage(`${name} must be a non-negative integer, got "${String(raw)}"`);
  return value;
}

async function main(): Promise<void> {
  const [suite, caseName, variant, opsText, warmupText] = process.argv.slice(2);
  const ops = count(opsText, "ops");
  const warmup = count(warmupText, "warmup-ops", 0);
  if (suite === "drizzle") {
    if (!(DRIZZLE_VARIANTS as readonly string[]).includes(variant ?? ""))
      usage(`unknown drizzle variant "${String(variant)}" (${DRIZZLE_VARIANTS.join(", ")})`);
    const subject = await openDrizzleVariant(variant as DrizzleVariant);
    try {
      const op = subject.cases[caseName ?? ""];
      if (op === undefined)
        usage(`unknown drizzle case "${String(caseName)}" (${Object.keys(subject.cases).join(", ")})`);
      for (let i = 0; i < warmup; i++) op();
      const started = process.hrtime.bigint();
      for (let i = 0; i < ops; i++) op();
      report(started, ops);
    } finally {
      await subject.close();
    }
  } else if (suite === "prisma") {
    if (!(PRISMA_VARIANTS as readonly string[]).includes(variant ?? ""))
      usage(`unknown prisma variant "${String(variant)}" (${PRISMA_VARIANTS.join(", ")})`);
    const subject = await openPrismaVariant(variant as PrismaVariant);
    try {
      const op = subject.cases[caseName ?? ""];
      if (op === undefined)
        usage(`unknown prisma case "${String(caseName)}" (${Object.keys(subject.cases).join(", ")})`);
      for (let i = 0; i < warmup; i++) await op();
      const started = process.hrtime.bigint();
      for (let i = 0; i < ops; i++) await op();
      report(started, ops);
    } finally {
      await subject.close();
    }
  } else {
    usage(`unknown suite "${String(suite)}"`);
  }
}

function report(started: bigint, ops: number): void {
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  console.error(`${ops} ops in ${seconds.toFixed(3)} s: ${Math.round(ops / seconds)} ops/s`);
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
