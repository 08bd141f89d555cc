// `import { migrate } from "litefs-node/drizzle/migrator"`: drizzle-orm's migrate(db, config),
// run by the primary-only applier (migrateDrizzle): the primary applies the folder, a replica
// skips it (LiteFS replicates the schema) or, with `wait`, waits until it has replicated.
import type { MigrationConfig } from "drizzle-orm/migrator";
import { migrateDrizzle, type MigrationResult } from "../../../migrations-guard/migrate.js";
import type { WaitOptions } from "../../../migrations-guard/wait.js";
import { databaseSettingsOf } from "./database-settings.js";
import type { LiteFSDrizzleDatabase } from "./index.js";

export type { MigrationResult } from "../../../migrations-guard/migrate.js";

export interface LiteFSMigrationConfig extends MigrationConfig {
  /** On a replica: wait until the migrations have replicated instead of returning at once. */
  wait?: WaitOptions;
}

/**
 * Applies drizzle-kit's migrations in `config.migrationsFolder` on the LiteFS primary, with
 * drizzle-orm's bookkeeping (`__drizzle_migrations`, or `migrationsTable`). Unlike drizzle-orm's
 * better-sqlite3 migrator it returns a promise: `await migrate(db, { migrationsFolder })`.
 */
export async function migrate<TSchema extends Record<string, unknown>>(
  db: LiteFSDrizzleDatabase<TSchema>,
  config: LiteFSMigrationConfig,
): Promise<MigrationResult> {
  const settings = db !== null && typeof db === "object" ? databaseSettingsOf(db) : undefined;
  if (settings === undefined) {
    throw new TypeError(
      "migrate(db, config): db must come from litefs-node/drizzle's drizzle() (for drizzle-orm's own databases use drizzle-orm/better-sqlite3/migrator)",
    );
  }
  if (config === null || typeof config !== "object")
    throw new TypeError("migrate(db, config): config with migrationsFolder is required");
  await db.$node.ready;
  return migrateDrizzle({
    settings,
    node: db.$node,
    migrationsFolder: config.migrationsFolder,
    ...(config.migrationsTable !== undefined ? { migrationsTable: config.migrationsTable } : {}),
    ...(config.wait !== undefined ? { wait: config.wait } : {}),
  });
}
