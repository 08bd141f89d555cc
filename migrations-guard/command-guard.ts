// `litefs-node migrate -- <command>` as a function: run a migration command (drizzle-kit
// migrate, prisma migrate deploy, a script) on the primary only. On a replica the command does
// not run; with `wait`, the replica waits until the primary's migrations have replicated.
import { openGuardedDatabase } from "../src/driver/open.js";
import { DEFAULT_BUSY_TIMEOUT_MS } from "../src/driver/guarded-database.js";
import {
  combinedSignal,
  withMigrationNode,
  type MigrationContext,
  type MigrationNodeOptions,
} from "./migration-node.js";
import { judgeMigrationRole } from "./node-role.js";
import { checkReplicaDatabase } from "./replica-check.js";
import { migrationCommandEnv } from "./command-env.js";
import { runCommand, type CommandRunResult } from "./run-command.js";
import { loadTarget, type MigrationTarget } from "./targets.js";
import { checkWaitOptions, waitForReplication, type WaitOptions } from "./wait.js";

export interface MigrationCommandOptions extends MigrationNodeOptions {
  /** The command and its arguments (no shell: use ["sh", "-c", "..."] for one). */
  readonly command: readonly string[];
  /** On a replica, wait for `targets` to replicate (see MigrateOptions.wait). */
  readonly wait?: WaitOptions & {
    /** The migrations folders the command applies: what a replica waits for. */
    readonly targets: readonly MigrationTarget[];
  };
  /** The command's environment (default process.env), with DATABASE_URL added unless set (command-env.ts). */
  readonly env?: NodeJS.ProcessEnv;
  readonly cwd?: string;
  readonly busyTimeoutMs?: number;
}

export type MigrationCommandOutcome =
  | { readonly kind: "ran"; readonly result: CommandRunResult; readonly waitedMs: number | null }
  | { readonly kind: "skipped"; readonly primary: string | null }
  | { readonly kind: "replicated"; readonly waitedMs: number };

// drizzle-kit and Prisma open their own connections and never switch to WAL; LiteFS wants WAL
// (switching a replicated database out of it crashed replicas). Opening the database through
// the guarded driver first creates it in WAL or checks that it is; WAL is persistent, so the
// command's own connection then uses it too.
function prepareDatabase(context: MigrationContext, busyTimeoutMs: number): void {
  openGuardedDatabase(context.settings, context.node, { busyTimeoutMs }).close();
}

/**
 * Runs `command` if this node is the primary. Throws SplitBrainError in split brain,
 * NotPrimaryError when no primary is known (without `wait`), MigrationTimeoutError when the
 * wait times out.
 */
export async function runMigrationCommandOnPrimary(options: MigrationCommandOptions): Promise<MigrationCommandOutcome> {
  if (
    !Array.isArray(options.command) ||
    options.command.length === 0 ||
    options.command.some((part) => typeof part !== "string")
  ) {
    throw new TypeError("runMigrationCommandOnPrimary: command must be a non-empty array of strings");
  }
  const signal = combinedSignal(options.signal, options.wait?.signal);
  const wait = options.wait === undefined ? null : checkWaitOptions({ ...options.wait, ...(signal ? { signal } : {}) });
  const targets = options.wait === undefined ? [] : options.wait.targets.map(loadTarget);
  if (wait !== null && targets.length === 0) {
    throw new TypeError("runMigrationCommandOnPrimary: wait.targets must name the migrations folders to wait for");
  }
  const busyTimeoutMs = options.busyTimeoutMs ?? DEFAULT_BUSY_TIMEOUT_MS;
  const commandText = options.command.join(" ");
  return withMigrationNode(options, async (context) => {
    const { node, log } = context;
    const run = async (waitedMs: number | null): Promise<MigrationCommandOutcome> => {
      // A signal that arrived before the command started means: do not start it.
      options.signal?.throwIfAborted();
      prepareDatabase(context, busyTimeoutMs);
      const env = migrationCommandEnv(options.env ?? process.env, context.settings);
      log.info({ command: options.command, DATABASE_URL: env.DATABASE_URL }, `primary: running ${commandText}`);
      const result = await runCommand(options.command, {
        env,
        ...(options.cwd !== undefined ? { cwd: options.cwd } : {}),
      });
      return { kind: "ran", result, waitedMs };
    };
    const role = judgeMigrationRole(node); // throws SplitBrainError
    if (role.kind === "primary") return run(null);
    if (wait === null) {
      if (role.kind === "no-primary") throw role.refusal;
      return { kind: "skipped", primary: role.primary };
    }
    const outcome = await waitForReplication(node, wait, () =>
      checkReplicaDatabase(context.settings, node, targets, busyTimeoutMs),
    );
    if (outcome.kind === "promoted") {
      log.warn(
        { waitedMs: outcome.waitedMs },
        "this node became primary while waiting: running the migration command itself",
      );
      return run(outcome.waitedMs);
    }
    return { kind: "replicated", waitedMs: outcome.waitedMs };
  });
}
