// migrateDrizzle / migratePrisma: apply on the primary, skip (or wait for replication) on a
// replica, refuse in split brain or when no primary is known.
import { openGuardedDatabase } from "../src/driver/open.js";
import { DEFAULT_BUSY_TIMEOUT_MS } from "../src/driver/guarded-database.js";
import { judgeMigrationRole } from "./node-role.js";
import {
  combinedSignal,
  withMigrationNode,
  type MigrationContext,
  type MigrationNodeOptions,
} from "./migration-node.js";
import { checkReplicaDatabase } from "./replica-check.js";
import { loadTarget, type LoadedTarget, type MigrationTarget } from "./targets.js";
import { checkWaitOptions, waitForReplication, type WaitOptions } from "./wait.js";

export interface MigrateOptions extends MigrationNodeOptions {
  /**
   * On a replica: wait until this node's (replicated) database records every migration of the
   * folder, instead of returning at once. No primary known: keep waiting instead of throwing.
   * If the node becomes primary meanwhile, it applies the migrations itself.
   */
  readonly wait?: WaitOptions;
  /** SQLite busy timeout (ms) of the migration connection. Default 5000. */
  readonly busyTimeoutMs?: number;
}

export interface MigrateDrizzleOptions extends MigrateOptions {
  /** drizzle-kit's `out` folder (with meta/_journal.json). */
  readonly migrationsFolder: string;
  /** Bookkeeping table. Default "__drizzle_migrations" (drizzle-kit's `migrations.table`). */
  readonly migrationsTable?: string;
}

export interface MigratePrismaOptions extends MigrateOptions {
  /** Default "prisma/migrations" (relative to the working directory). */
  readonly migrationsFolder?: string;
}

export interface MigrationResult {
  /** "primary": this node applied what was pending. "replica": it did not write. */
  readonly role: "primary" | "replica";
  /** Migrations applied by this call, in order (always empty on a replica). */
  readonly applied: readonly string[];
  /** Time spent waiting for replication (ms) when `wait` was given on a replica; else null. */
  readonly waitedMs: number | null;
}

function applyOnPrimary(context: MigrationContext, targets: readonly LoadedTarget[], busyTimeoutMs: number): string[] {
  const db = openGuardedDatabase(context.settings, context.node, { busyTimeoutMs });
  try {
    return targets.flatMap((target) => target.apply(db));
  } finally {
    db.close();
  }
}

/** Runs `targets` under the node's judgement. Shared by both appliers. */
export async function runMigrationTargets(
  options: MigrateOptions,
  targetList: readonly MigrationTarget[],
): Promise<MigrationResult> {
  // Read (and validate) the folders first: a broken folder fails the same way on every node.
  const targets = targetList.map(loadTarget);
  const signal = combinedSignal(options.signal, options.wait?.signal);
  const wait = options.wait === undefined ? null : checkWaitOptions({ ...options.wait, ...(signal ? { signal } : {}) });
  const busyTimeoutMs = options.busyTimeoutMs ?? DEFAULT_BUSY_TIMEOUT_MS;
  const what = targets.map((t) => `${t.target.kind} migrations in ${t.target.folder}`).join(", ");
  return withMigrationNode(options, async (context) => {
    const { node, log } = context;
    const role = judgeMigrationRole(node); // throws SplitBrainError
    const finish = (waitedMs: number | null): MigrationResult => {
      options.signal?.throwIfAborted();
      const applied = applyOnPrimary(context, targets, busyTimeoutMs);
      log.info(
        { applied, waitedMs },
        applied.length > 0 ? `applied ${applied.length} ${what}: ${applied.join(", ")}` : `${what}: up to date`,
      );
      return Object.freeze({ role: "primary", applied: Object.freeze(applied), waitedMs });
    };
    if (role.kind === "primary") return finish(null);
    if (wait === null) {
      if (role.kind === "no-primary") throw role.refusal;
      log.info(
        { primary: role.primary },
        `this node is a replica: not applying ${what}; the primary applies them and LiteFS replicates them`,
      );
      return Object.freeze({ role: "replica", applied: Object.freeze([]), waitedMs: null });
    }
    log.info({ timeoutMs: wait.timeoutMs }, `this node is a replica: waiting for ${what} to replicate`);
    const outcome = await waitForReplication(node, wait, () =>
      checkReplicaDatabase(context.settings, node, targets, busyTimeoutMs),
    );
    if (outcome.kind === "promoted") {
      log.warn(
        { waitedMs: outcome.waitedMs },
        "this node became primary while waiting: applying the migrations itself",
      );
      return finish(outcome.waitedMs);
    }
    log.info({ waitedMs: outcome.waitedMs }, `${what}: replicated`);
    return Object.freeze({ role: "replica", applied: Object.freeze([]), waitedMs: outcome.waitedMs });
  });
}

/** Applies drizzle-kit migrations on the primary (same bookkeeping as drizzle-orm and drizzle-kit). */
export async function migrateDrizzle(options: MigrateDrizzleOptions): Promise<MigrationResult> {
  if (
    options === null ||
    typeof options !== "object" ||
    typeof options.migrationsFolder !== "string" ||
    options.migrationsFolder === ""
  ) {
    throw new TypeError("migrateDrizzle: options.migrationsFolder (drizzle-kit's `out` folder) is required");
  }
  return runMigrationTargets(options, [
    {
      kind: "drizzle",
      folder: options.migrationsFolder,
      ...(options.migrationsTable !== undefined ? { table: options.migrationsTable } : {}),
    },
  ]);
}

/** Applies Prisma migration folders on the primary (Prisma-compatible `_prisma_migrations`). */
export async function migratePrisma(options: MigratePrismaOptions = {}): Promise<MigrationResult> {
  const folder = options.migrationsFolder ?? "prisma/migrations";
  if (typeof folder !== "string" || folder === "")
    throw new TypeError("migratePrisma: options.migrationsFolder must be a non-empty path");
  return runMigrationTargets(options, [{ kind: "prisma", folder }]);
}
