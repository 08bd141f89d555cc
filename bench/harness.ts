// A small benchmark harness: warm up, then time-boxed rounds, ops/s per round, median of the
// rounds. Variants of one case run interleaved (rotating order every round) so that drift of the
// machine (CPU frequency, page cache, the growing table, other processes) hits every variant
// alike; ratios are medians of per-round ratios.

import { cpus, loadavg, platform, release, totalmem } from "node:os";

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
  /**
   * subject / baseline: the median of the per-round paired ratios. Both ran in the same round, moments
   * apart, so load that drifts over seconds mostly cancels out; a ratio of two medians would not pair them.
   */
  readonly ratio: number;
  /** Spread of the per-round ratios: their 25th and 75th percentiles. */
  readonly ratioLow: number;
  readonly ratioHigh: number;
}

export interface BenchOptions {
  /** Warm-up time per variant before the first round (ms). */
  readonly warmupMs: number;
  /** Length of one timed round (ms). */
  readonly roundMs: number;
  /** Number of rounds; the median is reported. */
  readonly rounds: number;
}

// 15 rounds: the interquartile range of the paired ratios comes from enough pairs to mean something.
const DEFAULT_BENCH_OPTIONS: BenchOptions = { warmupMs: 300, roundMs: 250, rounds: 15 };

/**
 * Options from the environment: BENCH_ROUNDS, BENCH_ROUND_MS, BENCH_WARMUP_MS. Quick run:
 * BENCH_ROUNDS=3 BENCH_ROUND_MS=100; steadier numbers on a busy machine: BENCH_ROUNDS=21 or more.
 */
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
  return sorted.length % 2 === 1
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

/** The p-th percentile (0..1) of `values`, interpolated between the two nearest ranks. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) throw new Error("percentile of nothing");
  const sorted = [...values].sort((a, b) => a - b);
  const at = (sorted.length - 1) * p;
  const low = Math.floor(at);
  const high = Math.ceil(at);
  return (sorted[low] as number) + ((sorted[high] as number) - (sorted[low] as number)) * (at - low);
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

/** Per-round paired ratios subject/baseline (same round, moments apart). */
function roundRatios(subject: readonly number[], baseline: readonly number[]): number[] {
  if (subject.length !== baseline.length) throw new Error("roundRatios: sample counts differ");
  return subject.map((ops, round) => ops / (baseline[round] as number));
}

/**
 * One row per non-baseline variant of `samples` (ops/s per round, per variant), each against
 * `baseline`: median ops/s, the median of the per-round ratios, and their interquartile range.
 */
export function pairedRows(
  suite: string,
  caseName: string,
  samples: Readonly<Record<string, number[]>>,
  baseline: string,
  labels: Readonly<Record<string, string>> = VARIANT_LABELS,
): BenchRow[] {
  const base = samples[baseline];
  if (base === undefined) throw new Error(`pairedRows: no samples for the baseline "${baseline}"`);
  const rows: BenchRow[] = [];
  for (const [variant, subject] of Object.entries(samples)) {
    if (variant === baseline) continue;
    const ratios = roundRatios(subject, base);
    rows.push({
      suite,
      case: caseName,
      variant: labels[variant] ?? variant,
      baselineOpsPerSec: median(base),
      subjectOpsPerSec: median(subject),
      ratio: median(ratios),
      ratioLow: percentile(ratios, 0.25),
      ratioHigh: percentile(ratios, 0.75),
    });
  }
  return rows;
}

/** How the litefs-node variants of both suites are labelled in the table. */
const VARIANT_LABELS: Readonly<Record<string, string>> = {
  events: "gate fed by /events",
  files: "file-fallback gate, FUSE latency",
};

function formatOps(ops: number): string {
  return Math.round(ops).toLocaleString("en-US");
}

/** Prints rows as an aligned text table. */
export function printTable(rows: readonly BenchRow[], out: (line: string) => void = console.log): void {
  const header = ["suite", "case", "variant", "stock ops/s", "litefs-node ops/s", "ratio", "ratio p25-p75"];
  const body = rows.map((r) => [
    r.suite,
    r.case,
    r.variant,
    formatOps(r.baselineOpsPerSec),
    formatOps(r.subjectOpsPerSec),
    r.ratio.toFixed(3),
    `${r.ratioLow.toFixed(3)}-${r.ratioHigh.toFixed(3)}`,
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((row) => (row[i] as string).length)));
  const numeric = new Set([3, 4, 5, 6]);
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

/** The 1/5/15-minute load averages: how busy the machine was (2 cores: 2.0 = both busy). */
export function loadDescription(): string {
  const [one, five, fifteen] = loadavg().map((value) => value.toFixed(2));
  return `load average ${one} ${five} ${fifteen} (1/5/15 min)`;
}

// Asynchronous operations (Prisma): the same time boxes and interleaving, awaited.

export type AsyncOp = () => Promise<unknown>;

/** Runs `op` back to back for about `ms` milliseconds; returns operations per second. */
export async function timeBoxAsync(op: AsyncOp, ms: number): Promise<number> {
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

/** Times one variant for about `ms` milliseconds (in this process or in a worker); resolves ops/s. */
export type RoundTimer = (ms: number) => Promise<number>;

/**
 * measureInterleavedSamples for timers that may run elsewhere (bench/workers.ts: one process per
 * variant): warm-up each, then `rounds` rounds in rotating order, one variant at a time.
 */
export async function measureInterleavedRounds(
  timers: Readonly<Record<string, RoundTimer>>,
  options: BenchOptions,
): Promise<Record<string, number[]>> {
  const names = Object.keys(timers);
  const samples: Record<string, number[]> = {};
  for (const name of names) {
    await (timers[name] as RoundTimer)(options.warmupMs);
    samples[name] = [];
  }
  for (let round = 0; round < options.rounds; round++) {
    for (let k = 0; k < names.length; k++) {
      const name = names[(round + k) % names.length] as string;
      (samples[name] as number[]).push(await (timers[name] as RoundTimer)(options.roundMs));
    }
  }
  return samples;
}
