// Runs a migration command as a child process: stdio inherited, signals forwarded, its exit code
// reported the way a shell would (128 + signal number when a signal ended it).
import { spawn } from "node:child_process";
import { onSignals, shellExitCode } from "../src/signals.js";

export { signalExitCode } from "../src/signals.js";

/**
 * Signals passed on to the child while it runs. Not SIGUSR1, unlike `litefs-node run`: here the
 * parent is a Node process a person may want to debug, and SIGUSR1 opens Node's inspector; a
 * migration command has no use for it.
 */
export const FORWARDED_SIGNALS: readonly NodeJS.Signals[] = ["SIGINT", "SIGTERM", "SIGHUP", "SIGQUIT", "SIGUSR2"];

export interface CommandRunOptions {
  readonly env?: NodeJS.ProcessEnv;
  readonly cwd?: string;
}

export interface CommandRunResult {
  /** The child's exit code; 128 + n when signal n ended it; 127 not found, 126 not executable. */
  readonly exitCode: number;
  readonly signal: NodeJS.Signals | null;
  /** Set when the command could not be started at all. */
  readonly spawnError: Error | null;
}

export function runCommand(command: readonly string[], options: CommandRunOptions = {}): Promise<CommandRunResult> {
  const [file, ...args] = command;
  if (file === undefined || file === "") return Promise.reject(new TypeError("runCommand: the command is empty"));
  return new Promise((resolve) => {
    const child = spawn(file, args, { stdio: "inherit", env: options.env ?? process.env, cwd: options.cwd });
    const forward = (signal: NodeJS.Signals): void => {
      // The child may have exited a moment ago; a failed kill is nothing to report.
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    };
    const stopForwarding = onSignals(FORWARDED_SIGNALS, forward);
    let settled = false;
    const settle = (result: CommandRunResult): void => {
      if (settled) return;
      settled = true;
      stopForwarding();
      resolve(result);
    };
    child.once("error", (error: NodeJS.ErrnoException) => {
      // 'error' without a process: it never started (ENOENT, EACCES). Errors after a start
      // (a failed kill) are followed by 'exit'.
      if (child.pid !== undefined) return;
      settle({ exitCode: error.code === "ENOENT" ? 127 : 126, signal: null, spawnError: error });
    });
    child.once("exit", (code, signal) => {
      settle({ exitCode: shellExitCode(code, signal), signal, spawnError: null });
    });
  });
}
