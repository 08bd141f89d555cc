// Runs the `litefs-node` CLI from source as a real process, with a clean LITEFS_* environment.
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
export const CLI_ENTRY = join(ROOT, "bin", "litefs-node.ts");

export interface CliResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Environment without any LITEFS_* variable of the test runner's, plus `env`. */
export function cliEnv(env: Record<string, string> = {}): NodeJS.ProcessEnv {
  const clean: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith("LITEFS_")) clean[k] = v;
  return { ...clean, LITEFS_LOG_LEVEL: "silent", ...env };
}

export function runCli(args: string[], env: Record<string, string> = {}, timeoutMs = 20_000): CliResult {
  const r = spawnSync(process.execPath, ["--import", "tsx", CLI_ENTRY, ...args], {
    cwd: ROOT,
    env: cliEnv(env),
    encoding: "utf8",
    timeout: timeoutMs,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

export interface CliProcess {
  readonly child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** Resolves with the exit code (null when killed by a signal). */
  readonly exited: Promise<number | null>;
  /** Resolves with the first match of `pattern` in stdout; rejects on exit or after timeoutMs. */
  waitForOutput(pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  /** SIGKILL unless already exited; resolves once it has. */
  kill(): Promise<void>;
}

/** Starts the CLI as a long-running child (e.g. `proxy`), killed after `lifetimeMs` at the latest. */
export function startCli(args: string[], env: Record<string, string> = {}, lifetimeMs = 20_000): CliProcess {
  return startTsxProcess([CLI_ENTRY, ...args], env, lifetimeMs);
}

/** Runs a TypeScript file (and its arguments) under `node --import tsx`, like startCli. */
export function startTsxProcess(args: string[], env: Record<string, string> = {}, lifetimeMs = 20_000): CliProcess {
  const child = spawn(process.execPath, ["--import", "tsx", ...args], {
    cwd: ROOT,
    env: cliEnv(env),
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  let err = "";
  child.stdout?.on("data", (d: Buffer) => (out += d.toString()));
  child.stderr?.on("data", (d: Buffer) => (err += d.toString()));
  const killer = setTimeout(() => child.kill("SIGKILL"), lifetimeMs);
  // "close", not "exit": by then stdout and stderr are fully read.
  const exited = new Promise<number | null>((resolve) =>
    child.on("close", (code) => {
      clearTimeout(killer);
      resolve(code);
    }),
  );
  return {
    child,
    stdout: () => out,
    stderr: () => err,
    exited,
    waitForOutput(pattern, timeoutMs = 15_000) {
      return new Promise((resolve, reject) => {
        const started = Date.now();
        const tick = (): void => {
          const m = pattern.exec(out);
          if (m) return resolve(m);
          if (child.exitCode !== null) return reject(new Error(`exited ${child.exitCode}: ${err}`));
          if (Date.now() - started > timeoutMs)
            return reject(new Error(`no ${pattern} within ${timeoutMs} ms; stderr: ${err}`));
          setTimeout(tick, 20);
        };
        tick();
      });
    },
    async kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
      await exited;
    },
  };
}

/** runCli without blocking this process: for tests whose stand-ins (HTTP servers) live in it. */
export async function runCliAsync(
  args: string[],
  env: Record<string, string> = {},
  timeoutMs = 30_000,
): Promise<CliResult> {
  const run = startCli(args, env, timeoutMs);
  const code = await run.exited;
  return { code, stdout: run.stdout(), stderr: run.stderr() };
}
