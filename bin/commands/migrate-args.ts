// Arguments of `litefs-node migrate`. Hand-parsed rather than with util.parseArgs because
// `--wait` takes an optional value and everything after `--` is the command, untouched.
import { durationArgMs } from "./args.js";

export const DEFAULT_WAIT_SECONDS = 120;
/** Longest --wait: one day. */
const MAX_WAIT_SECONDS = 86_400;

type MigrateMode =
  | { readonly kind: "command"; readonly command: readonly string[]; readonly migrations: readonly string[] }
  | { readonly kind: "drizzle"; readonly folder: string; readonly table: string | null }
  | { readonly kind: "prisma"; readonly folder: string };

export interface MigrateArgs {
  /** null without --wait. */
  readonly waitSeconds: number | null;
  readonly mode: MigrateMode;
}

export type ParsedMigrateArgs =
  | { readonly kind: "help" }
  | { readonly kind: "args"; readonly args: MigrateArgs }
  | { readonly kind: "usage"; readonly message: string };

const VALUE_OPTIONS = new Set(["--drizzle", "--prisma", "--table", "--migrations"]);

function usage(message: string): ParsedMigrateArgs {
  return { kind: "usage", message };
}

function parseWait(text: string | undefined): number | string {
  if (text === undefined) return DEFAULT_WAIT_SECONDS;
  const ms = durationArgMs("--wait", text);
  if (typeof ms === "string") return ms;
  if (ms > MAX_WAIT_SECONDS * 1000) return `--wait is at most ${MAX_WAIT_SECONDS} s (24h), got "${text}"`;
  return ms / 1000;
}

export function parseMigrateArgs(argv: readonly string[]): ParsedMigrateArgs {
  const dash = argv.indexOf("--");
  const options = dash === -1 ? [...argv] : argv.slice(0, dash);
  const command = dash === -1 ? null : argv.slice(dash + 1);
  if (options.includes("--help") || options.includes("-h")) return { kind: "help" };

  let waitSeconds: number | null = null;
  const values: Record<string, string[]> = { "--drizzle": [], "--prisma": [], "--table": [], "--migrations": [] };
  for (let i = 0; i < options.length; i++) {
    const arg = options[i] as string;
    const eq = arg.indexOf("=");
    const name = eq === -1 ? arg : arg.slice(0, eq);
    const inline = eq === -1 ? undefined : arg.slice(eq + 1);
    if (name === "--wait") {
      // --wait takes its value optionally: "--wait=5m", "--wait 300" and "--wait 5m" all work; a
      // next argument that is not a duration is not its value ("--wait --drizzle DIR").
      const next = options[i + 1];
      const value =
        inline ??
        (next !== undefined && !next.startsWith("-") && typeof parseWait(next) === "number" ? options[++i] : undefined);
      const parsed = parseWait(value);
      if (typeof parsed === "string") return usage(parsed);
      waitSeconds = parsed;
    } else if (VALUE_OPTIONS.has(name)) {
      const value = inline ?? options[++i];
      if (value === undefined || value === "" || (inline === undefined && value.startsWith("--")))
        return usage(`${name} needs a value`);
      values[name]?.push(value);
    } else if (arg.startsWith("-")) {
      return usage(`unknown option "${arg}"`);
    } else {
      return usage(
        `unexpected argument "${arg}": put the migration command after "--" (litefs-node migrate -- ${arg} ...)`,
      );
    }
  }
  for (const name of ["--drizzle", "--prisma", "--table"]) {
    if ((values[name]?.length ?? 0) > 1) return usage(`${name} given more than once`);
  }
  const drizzle = values["--drizzle"]?.[0];
  const prisma = values["--prisma"]?.[0];
  const table = values["--table"]?.[0] ?? null;
  const migrations = values["--migrations"] ?? [];
  const modes = [drizzle !== undefined, prisma !== undefined, command !== null].filter(Boolean).length;
  if (modes === 0) return usage('say what to run: a command after "--", or --drizzle DIR, or --prisma DIR');
  if (modes > 1) return usage('use one of: a command after "--", --drizzle DIR, --prisma DIR');
  if (table !== null && drizzle === undefined) return usage("--table goes with --drizzle only");
  if (migrations.length > 0 && command === null)
    return usage('--migrations goes with a command after "--" only (--drizzle/--prisma name their folder)');

  let mode: MigrateMode;
  if (drizzle !== undefined) mode = { kind: "drizzle", folder: drizzle, table };
  else if (prisma !== undefined) mode = { kind: "prisma", folder: prisma };
  else {
    if (command === null || command.length === 0 || command[0] === "") return usage('the command after "--" is empty');
    mode = { kind: "command", command, migrations };
  }
  return { kind: "args", args: { waitSeconds, mode } };
}
