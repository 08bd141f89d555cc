// Runs the `litefs-node` CLI from source as a real process, with a clean LITEFS_* environment.
import { spawn, spawnSync } from "node:child_process";
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

/** runCli without blocking this process: for tests whose stand-ins (HTTP servers) live in it. */
export function runCliAsync(args: string[], env: Record<string, string> = {}, timeoutMs = 30_000): Promise<CliResult> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ["--import", "tsx", CLI_ENTRY, ...args], { cwd: ROOT, env: cliEnv(env), stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c: Buffer) => (stdout += c.toString()));
    child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.on("exit", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}
