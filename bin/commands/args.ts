// Argument parsing shared by the commands, so the CLI behaves like one program: `--flag value` and
// `--flag=value` both work everywhere (node:util parseArgs), durations are Go durations or plain
// seconds everywhere, and a usage error is one line plus a pointer to --help (exit 2).
import { parseArgs, type ParseArgsConfig } from "node:util";
import { durationUnitHint, goDurationToMs, GO_DURATION_EXAMPLES } from "../../src/config/durations.js";

export const USAGE_EXIT = 2;

type Options = NonNullable<ParseArgsConfig["options"]>;

/** "litefs-node run" from a help text that starts "Usage: litefs-node run ...". */
function commandOf(help: string): string {
  return /Usage:\s+(litefs-node(?: [a-z][a-z-]*)?)/.exec(help)?.[1] ?? "litefs-node";
}

/** Prints one line saying what was wrong and where help is; returns the usage exit code. */
export function usageError(help: string, message: string): number {
  const command = commandOf(help);
  process.stderr.write(`${command}: ${message}\nRun "${command} --help" for usage.\n`);
  return USAGE_EXIT;
}

/**
 * Parses `argv` strictly; prints `help` on --help. Returns the values, or an exit code to return.
 * With `passthrough`, everything after the first `--` is returned untouched in `rest`.
 */
export function parseCommandArgs<O extends Options>(
  argv: string[],
  options: O,
  help: string,
  passthrough = false,
):
  | {
      values: ReturnType<typeof parseArgs<{ options: O; strict: true; allowPositionals: false }>>["values"];
      rest: string[];
    }
  | number {
  const dash = passthrough ? argv.indexOf("--") : -1;
  const own = dash === -1 ? argv : argv.slice(0, dash);
  const rest = dash === -1 ? [] : argv.slice(dash + 1);
  if (own.includes("--help") || own.includes("-h")) {
    process.stdout.write(help);
    return 0;
  }
  try {
    const { values } = parseArgs({ args: own, options, strict: true, allowPositionals: false });
    return { values, rest };
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    // node's messages end with hints such as "To specify a positional argument starting with a
    // '-', place it at the end of the command after '--'": keep the first sentence only.
    return usageError(help, message.split(/\.\s/)[0]!.replace(/\.$/, ""));
  }
}

/**
 * Milliseconds in a duration option: a Go duration ("90s", "5m", "1h30m", "500ms") or a plain
 * number of seconds ("300", "2.5"). Returns a problem message naming the option otherwise.
 */
export function durationArgMs(option: string, text: string, { allowZero = false } = {}): number | string {
  const ms = /^\d+(\.\d+)?$/.test(text) ? Number(text) * 1000 : goDurationToMs(text);
  if (ms === null || !Number.isFinite(ms) || (!allowZero && ms === 0)) {
    return `${option} takes a duration such as ${GO_DURATION_EXAMPLES} or a number of seconds${allowZero ? "" : " greater than 0"}${durationUnitHint(text)}, got ${JSON.stringify(text)}`;
  }
  return ms;
}

/** Prints an error message that a person can act on, and returns the exit code for it. */
export function fail(message: string, code = 1): number {
  process.stderr.write(`litefs-node: ${message}\n`);
  return code;
}

/** Resolves with the first SIGINT or SIGTERM: long-running commands stop cleanly on either. */
export function waitForStopSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const onSignal = (signal: NodeJS.Signals): void => {
      process.off("SIGINT", onSignal);
      process.off("SIGTERM", onSignal);
      resolve(signal);
    };
    process.on("SIGINT", onSignal);
    process.on("SIGTERM", onSignal);
  });
}
