// Long simulation runs: `npm run test:sim -- --seeds N [--start S] [--profile default|churn|pause|all]
// [--jobs J] [--mutations] [--fast-check RUNS]`. Prints seeds run, violations and time; exits 1 on
// any violation (or on a mutation that was not caught). Replay one seed with `--start S --seeds 1`.
// `--profile all` splits N seeds 68% default, 16% churn, 16% pause (the issue-11 mix: 100,000 =
// 68,000 + 16,000 + 16,000); `--jobs J` runs slices of `--slice-seeds` (2000) seeds in J child
// processes at a time.
import { spawn } from "node:child_process";
import fc from "fast-check";
import { CHURN_PROFILE, MUTATIONS, PAUSE_PROFILE, runMutation } from "./mutations.js";
import { DEFAULT_PROFILE, generateScenario, scenarioArbitrary, type Profile } from "./scenario.js";
import { simulate, type SimResult } from "./simulator.js";

interface Args {
  seeds: number;
  start: number;
  profile: string;
  mutations: boolean;
  fastCheck: number;
  jobs: number;
  sliceSeeds: number;
}

function parseArgs(argv: readonly string[]): Args {
  const args: Args = {
    seeds: 500,
    start: 1,
    profile: "default",
    mutations: false,
    fastCheck: 0,
    jobs: 1,
    sliceSeeds: 2000,
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = (): string => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    if (a === "--seeds") args.seeds = positiveInt(value(), "--seeds");
    else if (a === "--start") args.start = positiveInt(value(), "--start");
    else if (a === "--profile") args.profile = value();
    else if (a === "--mutations") args.mutations = true;
    else if (a === "--fast-check") args.fastCheck = positiveInt(value(), "--fast-check");
    else if (a === "--jobs") args.jobs = positiveInt(value(), "--jobs");
    else if (a === "--slice-seeds") args.sliceSeeds = positiveInt(value(), "--slice-seeds");
    else if (a === "--") continue;
    else
      throw new Error(
        `unknown argument ${a} (use --seeds N, --start S, --profile default|churn|pause|all, --jobs J, --slice-seeds N, --mutations, --fast-check RUNS)`,
      );
  }
  return args;
}

function positiveInt(v: string, name: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new Error(`${name} must be a positive integer, got "${v}"`);
  return n;
}

const PROFILES: Record<string, Profile> = { default: DEFAULT_PROFILE, churn: CHURN_PROFILE, pause: PAUSE_PROFILE };

/** The issue-11 mix of `--profile all`. */
const ALL_SHARES: readonly (readonly [string, number])[] = [
  ["default", 0.68],
  ["churn", 0.16],
  ["pause", 0.16],
];

interface Slice {
  readonly profile: string;
  readonly start: number;
  readonly seeds: number;
}

/** Splits the requested seeds into per-profile, per-job slices. */
function slices(args: Args): Slice[] {
  const perProfile: Slice[] =
    args.profile === "all"
      ? ALL_SHARES.map(([profile, share], k) => {
          const before = ALL_SHARES.slice(0, k).reduce((n, [, sh]) => n + Math.round(args.seeds * sh), 0);
          const seeds = k === ALL_SHARES.length - 1 ? args.seeds - before : Math.round(args.seeds * share);
          return { profile, start: args.start, seeds };
        })
      : [{ profile: args.profile, start: args.start, seeds: args.seeds }];
  const out: Slice[] = [];
  // Slices of at most --slice-seeds (default 2000), so a long run reports as it goes; profiles
  // take turns, so a run stopped early has covered each of them.
  const perSlices = perProfile.map((p) => {
    const list: Slice[] = [];
    for (let from = 0; from < p.seeds; from += args.sliceSeeds)
      list.push({ profile: p.profile, start: p.start + from, seeds: Math.min(args.sliceSeeds, p.seeds - from) });
    return list;
  });
  while (perSlices.some((l) => l.length > 0)) for (const l of perSlices) if (l.length > 0) out.push(l.shift()!);
  return out;
}

/** Runs the slices in `jobs` child processes (this script, one slice each); exit 1 on any failure. */
async function runInChildren(args: Args): Promise<number> {
  const t0 = performance.now();
  const queue = slices(args);
  let failed = 0;
  const worker = async (): Promise<void> => {
    for (let s = queue.shift(); s; s = queue.shift()) {
      const slice = s;
      const code = await new Promise<number | null>((resolve) => {
        const child = spawn(
          process.execPath,
          [
            ...process.execArgv,
            process.argv[1]!,
            "--profile",
            slice.profile,
            "--start",
            String(slice.start),
            "--seeds",
            String(slice.seeds),
            "--slice-seeds",
            String(slice.seeds),
          ],
          {
            stdio: ["ignore", "inherit", "inherit"],
          },
        );
        child.on("exit", resolve);
      });
      if (code !== 0) failed++;
    }
  };
  await Promise.all(Array.from({ length: args.jobs }, worker));
  console.log(
    `all slices: seeds=${args.seeds} profile=${args.profile} jobs=${args.jobs} failed-slices=${failed} wall=${((performance.now() - t0) / 1000).toFixed(1)}s`,
  );
  return failed > 0 ? 1 : 0;
}

function main(): number {
  const args = parseArgs(process.argv.slice(2));
  const profile = PROFILES[args.profile];
  if (!profile) throw new Error(`--profile must be one of ${Object.keys(PROFILES).join(", ")}`);
  let failed = false;

  const t0 = performance.now();
  let events = 0;
  let violations = 0;
  let worstHeal = 0;
  let writes = 0;
  let reads = 0;
  for (let seed = args.start; seed < args.start + args.seeds; seed++) {
    const r: SimResult = simulate(generateScenario(seed, profile));
    events += r.events;
    writes += r.writesAcked;
    reads += r.readsChecked;
    worstHeal = Math.max(worstHeal, r.leaderAfterHealMs ?? 0);
    for (const v of r.violations) {
      violations++;
      console.log(`VIOLATION seed=${seed} ${v.kind} at ${v.at.toFixed(1)}ms: ${v.detail}`);
      console.log(`  replay: npm run test:sim -- --profile ${args.profile} --start ${seed} --seeds 1`);
    }
  }
  const ms = performance.now() - t0;
  console.log(
    `profile=${args.profile} seeds=${args.seeds} (${args.start}..${args.start + args.seeds - 1}) violations=${violations} ` +
      `events=${events} acked-writes=${writes} checked-reads=${reads} worst-leader-after-heal=${worstHeal.toFixed(0)}ms time=${(ms / 1000).toFixed(1)}s`,
  );
  if (violations > 0) failed = true;

  if (args.fastCheck > 0) {
    const t1 = performance.now();
    const out = fc.check(
      fc.property(scenarioArbitrary(profile), (s) => simulate(s).violations.length === 0),
      { numRuns: args.fastCheck, seed: args.start },
    );
    console.log(
      `fast-check runs=${out.numRuns} failed=${out.failed} time=${((performance.now() - t1) / 1000).toFixed(1)}s`,
    );
    if (out.failed) {
      console.log(`  shrunk counterexample: ${JSON.stringify(out.counterexample)}`);
      failed = true;
    }
  }

  if (args.mutations) {
    for (const m of MUTATIONS) {
      const t2 = performance.now();
      const o = runMutation(m);
      const v = o.found?.result.violations[0];
      const caught = v !== undefined && m.caughtBy.includes(v.kind);
      console.log(
        `mutation "${m.name}": ${caught ? `caught at seed ${o.found?.seed} by ${v.kind}` : "NOT CAUGHT"} ` +
          `(${o.seedsRun}/${m.budget} seeds, ${((performance.now() - t2) / 1000).toFixed(1)}s)${v ? `: ${v.detail}` : ""}`,
      );
      if (!caught) failed = true;
    }
  }
  return failed ? 1 : 0;
}

const parsed = parseArgs(process.argv.slice(2));
if (parsed.profile === "all" || parsed.jobs > 1 || parsed.seeds > parsed.sliceSeeds) {
  if (parsed.mutations || parsed.fastCheck > 0)
    throw new Error("--mutations and --fast-check run in one process: drop --jobs and --profile all");
  void runInChildren(parsed).then((code) => (process.exitCode = code));
} else {
  process.exitCode = main();
}
