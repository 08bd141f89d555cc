// Runs a migration command as a child process: stdio inherited, signals forwarded, its exit code
// reported the way a shell would (128 + signal number when a signal ended it).
import { spawn } from "node:child_process";
import { constants } from "node:os";

/** Signals passed on to the child while it runs (SIGUSR1 stays Node's debugger signal). */
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

export function signalExitCode(signal: NodeJS.Signals): number {
  const number = (constants.signals as Record<string, number | undefined>)[signal];
  return 128 + (number ?? 0);
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
    const handlers = FORWARDED_SIGNALS.map((signal) => {
      const handler = (): void => forward(signal);
      process.on(signal, handler);
      return [signal, handler] as const;
    });
    let settled = false;
    const settle = (result: CommandRunResult): void => {
      if (settled) return;
      settled = true;
      for (const [signal, handler] of handlers) process.off(signal, handler);
      resolve(result);
    };
    child.once("error", (error: NodeJS.ErrnoException) => {
      // 'error' without a process: it never started (ENOENT, EACCES). Errors after a start
      // (a failed kill) are followed by 'exit'.
      if (child.pid !== undefined) return;
      settle({ exitCode: error.code === "ENOENT" ? 127 : 126, signal: null, spawnError: error });
    });
    child.once("exit", (code, signal) => {
      settle({ exitCode: code ?? (signal ? signalExitCode(signal) : 1), signal, spawnError: null });
    });
  });
}
