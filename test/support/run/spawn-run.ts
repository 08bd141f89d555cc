// `litefs-node run` as a real child process for tests, with helpers to wait on what it does.
import { spawn, type ChildProcess } from "node:child_process";
import { chmodSync, existsSync, readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

const RUN_MAIN = fileURLToPath(new URL("../lease/run-main.ts", import.meta.url));
const ROOT = fileURLToPath(new URL("../../..", import.meta.url));
export const FAKE_LITEFS = fileURLToPath(new URL("../lease/fake-litefs.ts", import.meta.url));

export interface RunProcess {
  readonly child: ChildProcess;
  /** Everything it printed so far, stdout and stderr. */
  out(): string;
  readonly exited: Promise<number | null>;
}

/** The test runner's environment without any LITEFS_* variable, plus `extra`. */
export function runEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith("LITEFS_")) env[k] = v;
  return { ...env, LITEFS_LOG_LEVEL: "warn", ...extra };
}

/** Starts `litefs-node run ARGS`; the caller kills it (children set) at the end of the test. */
export function spawnRun(args: string[], env: NodeJS.ProcessEnv, children: Set<ChildProcess>): RunProcess {
  const child = spawn(process.execPath, ["--import", "tsx", RUN_MAIN, ...args], {
    cwd: ROOT,
    env,
    stdio: ["pipe", "pipe", "pipe"],
  });
  children.add(child);
  let out = "";
  child.stdout.on("data", (c: Buffer) => (out += c.toString()));
  child.stderr.on("data", (c: Buffer) => (out += c.toString()));
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  return { child, out: () => out, exited };
}

/** Writes an executable shell script. */
export function writeScript(path: string, body: string): string {
  writeFileSync(path, `#!/bin/sh\n${body}\n`);
  chmodSync(path, 0o755);
  return path;
}

export const within = <T>(p: Promise<T>, ms: number, what: string): Promise<T> =>
  Promise.race([
    p,
    new Promise<T>((_, reject) => setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms)),
  ]);

/** Polls `probe` until it yields a value; `what` may be a function so the error shows the state at the deadline. */
export async function waitFor<T>(
  probe: () => T | undefined | null | false,
  ms: number,
  what: string | (() => string),
): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = probe();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${typeof what === "function" ? what() : what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** JSON lines of a record file (the fake litefs writes one). */
export function records(path: string): Record<string, unknown>[] {
  if (!existsSync(path)) return [];
  return readFileSync(path, "utf8")
    .split("\n")
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

/** True while `pid` is a live (not zombie) process. */
export function processAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const state = stat.slice(stat.lastIndexOf(")") + 2).split(" ")[0];
    return state !== "Z" && state !== "X";
  } catch {
    return false;
  }
}
