// Runs a TypeScript snippet as a child process (node --import tsx) and reports whether it exited
// on its own: the way to prove that nothing keeps the event loop alive.
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";

const ROOT = resolve(import.meta.dirname, "..", "..");

/** file:// URL of a repository file, for `import ... from ${sourceUrl("src/...")}` in a script. */
export const sourceUrl = (path: string): string => JSON.stringify(pathToFileURL(join(ROOT, path)).href);

export interface ChildScriptResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
  /** True when the child was still running after `killAfterMs` and had to be killed. */
  readonly killed: boolean;
  /** Wall time from spawn to exit (ms). */
  readonly elapsedMs: number;
}

/**
 * Writes `source` to a temp .mts file and runs it from the repository root with a quiet default
 * logger. The child is SIGKILLed after `killAfterMs` (default 45 s, for heavily loaded machines): it must be gone well before.
 */
export function runChildScript(
  source: string,
  options: { env?: NodeJS.ProcessEnv; killAfterMs?: number } = {},
): Promise<ChildScriptResult> {
  const scratch = mkdtempSync(join(tmpdir(), "litefs-node-child-"));
  const script = join(scratch, "child.mts");
  writeFileSync(script, source);
  const started = Date.now();
  return new Promise((resolvePromise) => {
    const child = spawn(process.execPath, ["--import", "tsx", script], {
      cwd: ROOT,
      stdio: ["ignore", "pipe", "pipe"],
      // The default logger (pino to stderr) is in use; keep it quiet so stderr shows only failures.
      env: { ...process.env, LITEFS_LOG_LEVEL: "silent", ...options.env },
    });
    let stdout = "";
    let stderr = "";
    let killed = false;
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    const guard = setTimeout(() => {
      killed = true;
      child.kill("SIGKILL");
    }, options.killAfterMs ?? 45_000);
    child.on("exit", (code) => {
      clearTimeout(guard);
      rmSync(scratch, { recursive: true, force: true });
      resolvePromise({ code, stdout, stderr, killed, elapsedMs: Date.now() - started });
    });
  });
}
