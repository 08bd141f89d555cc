// Instructions per operation, counted by valgrind (callgrind): unlike ops/s, the count does not
// move when other processes share the CPU, so small differences between variants are visible.
//
//   tsx bench/instructions.ts <drizzle|prisma> <case> [variants=stock,events] [ops=20000] [warmup=3000]
//   e.g. tsx bench/instructions.ts drizzle "autocommit single-row insert"
//        tsx bench/instructions.ts prisma "findMany 50 rows" official,events 2000 500
//
// Method: each variant runs in its own `node --single-threaded` process (no concurrent JIT or GC
// threads: the count is repeatable) twice, once with `warmup` operations and once with
// `warmup + ops`; the difference divided by `ops` is the steady-state cost of one operation,
// with process start, setup and JIT warm-up cancelled out. Two processes run at a time.
// Cost: about a minute of CPU per process. Needs valgrind on PATH.

import { spawn } from "node:child_process";
import { availableParallelism, tmpdir } from "node:os";
import { mkdtempSync, rmSync } from "node:fs";
import { join } from "node:path";

const [suite, caseName, variantList, opsText, warmupText] = process.argv.slice(2);
if (suite === undefined || caseName === undefined) {
  console.error("usage: tsx bench/instructions.ts <drizzle|prisma> <case> [variants] [ops] [warmup]");
  process.exit(2);
}
const variants = (variantList ?? (suite === "prisma" ? "official,events" : "stock,events")).split(",");
const ops = Number(opsText ?? 20000);
const warmup = Number(warmupText ?? 3000);
if (!Number.isInteger(ops) || ops <= 0 || !Number.isInteger(warmup) || warmup < 0) {
  console.error("ops must be a positive integer, warmup a non-negative integer");
  process.exit(2);
}

const scratch = mkdtempSync(join(tmpdir(), "litefs-node-callgrind-"));

function countInstructions(variant: string, totalOps: number): Promise<number> {
  const args = [
    "--tool=callgrind",
    `--callgrind-out-file=${join(scratch, `${variant}-${totalOps}.out`)}`,
    process.execPath,
    "--single-threaded",
    "--import",
    "tsx",
    join(import.meta.dirname, "ops.ts"),
    suite as string,
    caseName as string,
    variant,
    String(totalOps - warmup),
    String(warmup),
  ];
  return new Promise((resolve, reject) => {
    const child = spawn("valgrind", args, { stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    child.on("error", reject);
    child.on("close", (code) => {
      const match = /Collected : (\d+)/.exec(stderr);
      if (code !== 0 || match === null)
        reject(new Error(`valgrind ${variant} ${totalOps} ops failed (exit ${code}):\n${stderr.slice(-2000)}`));
      else resolve(Number(match[1]));
    });
  });
}

async function runAll<T>(jobs: (() => Promise<T>)[], parallel: number): Promise<T[]> {
  const results = new Array<T>(jobs.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < jobs.length) {
      const index = next++;
      results[index] = await (jobs[index] as () => Promise<T>)();
    }
  };
  await Promise.all(Array.from({ length: Math.min(parallel, jobs.length) }, worker));
  return results;
}

async function main(): Promise<void> {
  console.log(`${suite}: ${caseName}: instructions per op over ${ops} ops after ${warmup} warm-up ops (callgrind)`);
  const jobs = variants.flatMap((variant) => [
    () => countInstructions(variant, warmup),
    () => countInstructions(variant, warmup + ops),
  ]);
  const counts = await runAll(jobs, Math.max(1, Math.min(2, availableParallelism())));
  const perOp = new Map<string, number>();
  variants.forEach((variant, i) =>
    perOp.set(variant, ((counts[2 * i + 1] as number) - (counts[2 * i] as number)) / ops),
  );
  const baseline = perOp.get(variants[0] as string) as number;
  for (const [variant, instructions] of perOp) {
    const extra = instructions - baseline;
    console.log(
      `  ${variant.padEnd(9)} ${Math.round(instructions).toLocaleString("en-US").padStart(12)} instr/op` +
        (variant === variants[0]
          ? "  (baseline)"
          : `  ${extra >= 0 ? "+" : ""}${Math.round(extra).toLocaleString("en-US")} (${((instructions / baseline - 1) * 100).toFixed(2)}%); speed ratio if CPU-bound ${(baseline / instructions).toFixed(3)}`),
    );
  }
}

main().then(
  () => rmSync(scratch, { recursive: true, force: true }),
  (error: unknown) => {
    rmSync(scratch, { recursive: true, force: true });
    console.error(error);
    process.exit(1);
  },
);
