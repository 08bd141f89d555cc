// A small benchmark harness: warm up, then time-boxed rounds, ops/s per round, median of the
// rounds. Variants of one case run interleaved (rotating order every round) so that drift of the
// machine (CPU frequency, page cache, the growing table, other processes) hits every variant
// alike; ratios are medians of per-round ratios.

import { cpus, platform, release, totalmem } from "node:os";

/** One line of the result table: a subject measured against its stock baseline. */
export interface BenchRow {
  /** "drizzle", "prisma", ... */
  readonly suite: string;
  /** What one operation is, e.g. "autocommit single-row insert". */
  readonly case: string;
  /** What the subject ran with, e.g. "gate fed by /events". */
  readonly variant: string;
  readonly baselineOpsPerSec: number;
  readonly subjectOpsPerSec: number;
  /** subject / baseline: the median of per-round ratios when rounds are paired (see pairedRatio). */
  readonly ratio: number;
}

export interface BenchOptions {
  /** Warm-up time per variant before the first round (ms). */
  readonly warmupMs: number;
  /** Length of one timed round (ms). */
  readonly roundMs: number;
  /** Number of rounds; the median is reported. */
  readonly rounds: number;
}

export const DEFAULT_BENCH_OPTIONS: BenchOptions = { warmupMs: 300, roundMs: 250, rounds: 9 };

/** Options from the environment (BENCH_ROUNDS, BENCH_ROUND_MS, BENCH_WARMUP_MS), for quick runs. */
export function benchOptionsFromEnv(env: NodeJS.ProcessEnv = process.env): BenchOptions {
  const read = (name: string, fallback: number): number => {
    const raw = env[name];
    if (raw === undefined || raw === "") return fallback;
    const value = Number(raw);
    if (!Number.isInteger(value) || value <= 0) throw new Error(`${name} must be a positive integer, got "${raw}"`);
    return value;
  };
  return {
    warmupMs: read("BENCH_WARMUP_MS", DEFAULT_BENCH_OPTIONS.warmupMs),
    roundMs: read("BENCH_ROUND_MS", DEFAULT_BENCH_OPTIONS.roundMs),
    rounds: read("BENCH_ROUNDS", DEFAULT_BENCH_OPTIONS.rounds),
  };
}

/** Runs `op` repeatedly for about `ms` milliseconds; returns operations per second. */
export function timeBox(op: () => unknown, ms: number): number {
  const budget = BigInt(Math.round(ms * 1e6));
  const started = process.hrtime.bigint();
  let ops = 0;
  let elapsed = 0n;
  // Check the clock every `batch` ops; grow the batch while ops are fast so hrtime stays cheap.
  let batch = 1;
  while (elapsed < budget) {
    for (let i = 0; i < batch; i++) op();
    ops += batch;
    elapsed = process.hrtime.bigint() - started;
    if (elapsed < budget / 100n) batch *= 2;
  }
  return ops / (Number(elapsed) / 1e9);
}

export function median(values: readonly number[]): number {
  if (values.length === 0) throw new Error("median of nothing");
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

/**
 * Measures every variant of one case: warm-up each, then `rounds` rounds in rotating order.
 * Returns every round's ops/s per variant name (index = round).
 */
export function measureInterleavedSamples(
  variants: Readonly<Record<string, () => unknown>>,
  options: BenchOptions,
): Record<string, number[]> {
  const names = Object.keys(variants);
  const samples: Record<string, number[]> = {};
  for (const name of names) {
    timeBox(variants[name] as () => unknown, options.warmupMs);
    samples[name] = [];
  }
  for (let round = 0; round < options.rounds; round++) {
    for (let k = 0; k < names.length; k++) {
      const name = names[(round + k) % names.length] as string;
      (samples[name] as number[]).push(timeBox(variants[name] as () => unknown, options.roundMs));
    }
  }
  return samples;
}

/** measureInterleavedSamples, reduced to the median ops/s per variant name. */
export function measureInterleaved(variants: Readonly<Record<string, () => unknown>>, options: BenchOptions): Record<string, number> {
  const samples = measureInterleavedSamples(variants, options);
  const result: Record<string, number> = {};
  for (const name of Object.keys(samples)) result[name] = median(samples[name] as number[]);
  return result;
}

/**
 * The median of the per-round ratios subject/baseline. Both ran in the same round, moments apart,
 * so load from elsewhere on the machine (which drifts over seconds) mostly cancels out; a ratio of
 * the two medians would not pair them.
 */
export function pairedRatio(subject: readonly number[], baseline: readonly number[]): number {
  if (subject.length !== baseline.length) throw new Error("pairedRatio: sample counts differ");
  return median(subject.map((ops, round) => ops / (baseline[round] as number)));
}

function formatOps(ops: number): string {
  return Math.round(ops).toLocaleString("en-US");
}

/** Prints rows as an aligned text table. */
export function printTable(rows: readonly BenchRow[], out: (line: string) => void = console.log): void {
  const header = ["suite", "case", "variant", "stock ops/s", "litefs-node ops/s", "ratio"];
  const body = rows.map((r) => [r.suite, r.case, r.variant, formatOps(r.baselineOpsPerSec), formatOps(r.subjectOpsPerSec), r.ratio.toFixed(3)]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((row) => (row[i] as string).length)));
  const numeric = new Set([3, 4, 5]);
  const line = (cells: readonly string[]) =>
    cells.map((c, i) => (numeric.has(i) ? c.padStart(widths[i] as number) : c.padEnd(widths[i] as number))).join("  ");
  out(line(header));
  out(widths.map((w) => "-".repeat(w)).join("  "));
  for (const row of body) out(line(row));
}

/** One line describing the machine the numbers came from. */
export function machineDescription(): string {
  const cpu = cpus();
  const model = cpu[0]?.model.trim() ?? "unknown CPU";
  const memGiB = (totalmem() / 1024 ** 3).toFixed(1);
  return `${model}, ${cpu.length} cores, ${memGiB} GiB RAM, ${platform()} ${release()}, Node ${process.version}`;
}
