// `litefs-node migrate`: migrations on the LiteFS primary only. Thin: parsing, messages and exit
// codes here; the decisions live in migrations-guard/.
import { existsSync } from "node:fs";
import { join } from "node:path";
import { isNotPrimaryError, isSplitBrainError } from "../../src/errors.js";
import {
  detectMigrationTarget,
  isMigrationTimeoutError,
  migrateDrizzle,
  migratePrisma,
  runMigrationCommandOnPrimary,
  signalExitCode,
  type MigrationResult,
  type MigrationTarget,
} from "../../migrations-guard/index.js";
import { createDefaultLogger } from "../../src/logger.js";
import { USAGE_EXIT, usageError } from "./args.js";
import { DEFAULT_WAIT_SECONDS, parseMigrateArgs, type MigrateArgs } from "./migrate-args.js";

export const MIGRATE_EXIT = Object.freeze({
  ok: 0,
  failed: 1,
  usage: USAGE_EXIT,
  splitBrain: 3,
  noPrimary: 4,
});

export const MIGRATE_HELP = `Usage:
  litefs-node migrate [--wait[=DURATION]] [--migrations DIR]... -- <command> [args...]
  litefs-node migrate [--wait[=DURATION]] --drizzle DIR [--table NAME]
  litefs-node migrate [--wait[=DURATION]] --prisma DIR

Runs migrations on the LiteFS primary only. Every node may run this at start; replicas get the
schema from the primary by replication.

  -- <command>        run the command on the primary (stdio inherited, exit code passed
                      through, SIGINT/SIGTERM/SIGHUP/SIGQUIT/SIGUSR2 forwarded), e.g.
                      -- npx drizzle-kit migrate     or     -- npx prisma migrate deploy
                      The database is opened once first, so it is created in (or checked for)
                      WAL mode, which LiteFS needs and those tools do not set.
                      The command gets DATABASE_URL=file:<mountPath>/<databaseName>
                      (prisma.config.ts, drizzle.config.ts) unless DATABASE_URL is set.
  --drizzle DIR       apply drizzle-kit migrations (DIR has meta/_journal.json) through the
                      guarded driver; same __drizzle_migrations rows as drizzle-kit/drizzle-orm
  --table NAME        drizzle bookkeeping table (default __drizzle_migrations)
  --prisma DIR        apply Prisma migrations (DIR/<timestamp>_<name>/migration.sql) without
                      Prisma's schema engine; Prisma-compatible _prisma_migrations rows
  --wait [DURATION]   on a replica, wait until the migrations have replicated (default
                      ${DEFAULT_WAIT_SECONDS} s); with no primary known, keep waiting; if this node becomes
                      primary meanwhile, it migrates itself
  --migrations DIR    with a command and --wait: the migrations folder(s) the command applies
                      (drizzle or Prisma, detected). Default: ./drizzle and/or ./prisma/migrations
  -h, --help          this help

On a replica without --wait: prints one line and exits 0 without running anything.

Exit codes:
  0    migrations ran on the primary, or were skipped / replicated on a replica
  N    with a command: the command's own exit code (128+n when signal n ended it;
       127 command not found, 126 not executable)
  1    a migration failed, a folder is invalid, or another error
  2    usage error
  3    split brain: LiteFS and the election disagree about the primary; nothing ran
  4    no primary known, or --wait timed out (the message names the missing migration)

Settings come from LITEFS_* environment variables (see README.md).
`;

const WAIT_SIGNALS: readonly NodeJS.Signals[] = ["SIGINT", "SIGTERM"];

function say(line: string): void {
  process.stdout.write(`litefs-node migrate: ${line}\n`);
}

function complain(message: string, code: number): number {
  process.stderr.write(`litefs-node migrate: ${message}\n`);
  return code;
}

/** Default wait targets for a command: the folders drizzle-kit and Prisma use by default. */
function defaultTargets(): MigrationTarget[] {
  const candidates = [join("drizzle"), join("prisma", "migrations")];
  return candidates.filter((dir) => existsSync(dir)).map((dir) => detectMigrationTarget(dir));
}

function describeResult(kind: "drizzle" | "prisma", result: MigrationResult): string {
  if (result.role === "replica") {
    return result.waitedMs === null
      ? `this node is a replica: ${kind} migrations skipped (the primary applies them; LiteFS replicates them)`
      : `replica: ${kind} migrations replicated from the primary after ${result.waitedMs} ms`;
  }
  const promoted = result.waitedMs === null ? "" : ` (became primary after waiting ${result.waitedMs} ms)`;
  return result.applied.length === 0
    ? `primary: ${kind} migrations up to date${promoted}`
    : `primary: applied ${result.applied.length} ${kind} migration(s)${promoted}: ${result.applied.join(", ")}`;
}

async function run(args: MigrateArgs, signal: AbortSignal): Promise<number> {
  // One line per event: this command says what happened (say/complain); the library's info log
  // of the same event would be a second line. Warnings still show; LITEFS_LOG_LEVEL overrides.
  const logger = process.env["LITEFS_LOG_LEVEL"]
    ? createDefaultLogger()
    : createDefaultLogger().child({}, { level: "warn" });
  const wait = args.waitSeconds === null ? undefined : { timeoutMs: Math.round(args.waitSeconds * 1000) };
  const { mode } = args;
  if (mode.kind === "drizzle") {
    const result = await migrateDrizzle({
      migrationsFolder: mode.folder,
      ...(mode.table !== null ? { migrationsTable: mode.table } : {}),
      ...(wait ? { wait } : {}),
      signal,
      logger,
    });
    say(describeResult("drizzle", result));
    return MIGRATE_EXIT.ok;
  }
  if (mode.kind === "prisma") {
    const result = await migratePrisma({ migrationsFolder: mode.folder, ...(wait ? { wait } : {}), signal, logger });
    say(describeResult("prisma", result));
    return MIGRATE_EXIT.ok;
  }
  let targets: MigrationTarget[] = [];
  if (wait) {
    targets = mode.migrations.length > 0 ? mode.migrations.map(detectMigrationTarget) : defaultTargets();
    if (targets.length === 0) {
      return complain(
        "--wait needs to know which migrations to wait for: pass --migrations DIR (no ./drizzle or ./prisma/migrations here)",
        MIGRATE_EXIT.usage,
      );
    }
  }
  const commandText = mode.command.join(" ");
  const outcome = await runMigrationCommandOnPrimary({
    command: mode.command,
    ...(wait ? { wait: { ...wait, targets } } : {}),
    signal,
    logger,
  });
  switch (outcome.kind) {
    case "skipped":
      say(
        `this node is a replica${outcome.primary ? ` of "${outcome.primary}"` : ""}: not running "${commandText}" ` +
          "(the primary runs migrations; LiteFS replicates them)",
      );
      return MIGRATE_EXIT.ok;
    case "replicated":
      say(`replica: migrations replicated from the primary after ${outcome.waitedMs} ms; not running "${commandText}"`);
      return MIGRATE_EXIT.ok;
    case "ran": {
      const { result } = outcome;
      if (result.spawnError) {
        const why = result.exitCode === 127 ? "command not found" : result.spawnError.message;
        return complain(`cannot run "${mode.command[0]}": ${why}`, result.exitCode);
      }
      return result.exitCode;
    }
  }
}

export async function migrateCommand(argv: string[]): Promise<number> {
  const parsed = parseMigrateArgs(argv);
  if (parsed.kind === "help") {
    process.stdout.write(MIGRATE_HELP);
    return MIGRATE_EXIT.ok;
  }
  if (parsed.kind === "usage") return usageError("Usage: litefs-node migrate", parsed.message);
  // SIGINT/SIGTERM end a wait cleanly (the node is closed, the exit code says which signal).
  // While a command runs, runCommand forwards them to it instead, and this abort is a no-op.
  const controller = new AbortController();
  const onSignal = (signal: NodeJS.Signals): void => controller.abort(signal);
  for (const signal of WAIT_SIGNALS) process.on(signal, onSignal);
  try {
    return await run(parsed.args, controller.signal);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    if (controller.signal.aborted && error === controller.signal.reason) {
      const signal = controller.signal.reason as NodeJS.Signals;
      return complain(`interrupted by ${signal} before anything ran`, signalExitCode(signal));
    }
    if (isSplitBrainError(error)) return complain(message, MIGRATE_EXIT.splitBrain);
    if (isNotPrimaryError(error) || isMigrationTimeoutError(error)) return complain(message, MIGRATE_EXIT.noPrimary);
    return complain(message, MIGRATE_EXIT.failed);
  } finally {
    for (const signal of WAIT_SIGNALS) process.off(signal, onSignal);
  }
}
