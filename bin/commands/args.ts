// Argument parsing shared by the commands: strict, with a usage error (exit 2) that says what was wrong.
import { parseArgs, type ParseArgsConfig } from "node:util";

export const USAGE_EXIT = 2;

type Options = NonNullable<ParseArgsConfig["options"]>;

/** Parses `argv` strictly; prints `help` on --help. Returns the values, or an exit code to return. */
export function parseCommandArgs<O extends Options>(
  argv: string[],
  options: O,
  help: string,
): { values: ReturnType<typeof parseArgs<{ options: O; strict: true; allowPositionals: false }>>["values"] } | number {
  if (argv.includes("--help") || argv.includes("-h")) {
    process.stdout.write(help);
    return 0;
  }
  try {
    const { values } = parseArgs({ args: argv, options, strict: true, allowPositionals: false });
    return { values };
  } catch (error) {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n\n${help}`);
    return USAGE_EXIT;
  }
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
