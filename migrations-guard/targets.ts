// A migrations folder, read once, with the two things the guard does with it: apply it on the
// primary, and ask a replica's database what of it has not arrived yet.
import { statSync } from "node:fs";
import { join } from "node:path";
import type BetterSqlite3 from "better-sqlite3";
import { applyDrizzleMigrations, missingDrizzleMigrations } from "./drizzle-apply.js";
import { checkTableName, DEFAULT_DRIZZLE_MIGRATIONS_TABLE } from "./drizzle-bookkeeping.js";
import { readDrizzleFolder } from "./drizzle-folder.js";
import { MigrationError } from "./errors.js";
import { applyPrismaMigrations, unappliedPrismaMigrations } from "./prisma-apply.js";
import { PRISMA_MIGRATIONS_TABLE, readPrismaRecords } from "./prisma-bookkeeping.js";
import { PRISMA_LOCK_FILE, PRISMA_MIGRATION_FILE, readPrismaFolder } from "./prisma-folder.js";

export type MigrationTarget =
  | { readonly kind: "drizzle"; readonly folder: string; readonly table?: string }
  | { readonly kind: "prisma"; readonly folder: string };

export interface LoadedTarget {
  readonly target: MigrationTarget;
  /** Every migration of the folder, in order (drizzle tags / Prisma directory names). */
  readonly names: readonly string[];
  /** Applies what is pending on a writable connection; returns the names applied. */
  apply(db: BetterSqlite3.Database): string[];
  /** Names not (yet) recorded as applied in `db`. Throws MigrationError("failed-on-primary") when one is recorded as failed. */
  missing(db: BetterSqlite3.Database): string[];
}

export function loadTarget(target: MigrationTarget): LoadedTarget {
  if (target.kind === "drizzle") {
    const table = checkTableName(target.table ?? DEFAULT_DRIZZLE_MIGRATIONS_TABLE);
    const migrations = readDrizzleFolder(target.folder);
    return {
      target,
      names: migrations.map((m) => m.tag),
      apply: (db) => applyDrizzleMigrations(db, migrations, table),
      missing: (db) => missingDrizzleMigrations(db, migrations, table),
    };
  }
  const migrations = readPrismaFolder(target.folder);
  return {
    target,
    names: migrations.map((m) => m.name),
    apply: (db) => applyPrismaMigrations(db, migrations),
    missing: (db) => {
      const records = readPrismaRecords(db);
      const failed = records?.find((r) => r.state === "failed" && migrations.some((m) => m.name === r.migrationName));
      if (failed) {
        throw new MigrationError(
          "failed-on-primary",
          failed.migrationName,
          `migration "${failed.migrationName}" is recorded as failed in ${PRISMA_MIGRATIONS_TABLE} (replicated from the primary); ` +
            "it will not arrive until someone resolves it on the primary",
        );
      }
      return unappliedPrismaMigrations(migrations, records);
    },
  };
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/**
 * Which kind of folder this is: drizzle-kit's (`meta/_journal.json`) or Prisma's
 * (`migration_lock.toml`, or `<name>/migration.sql` directories). Throws MigrationError otherwise.
 */
export function detectMigrationTarget(folder: string): MigrationTarget {
  if (isFile(join(folder, "meta", "_journal.json"))) return { kind: "drizzle", folder };
  if (isFile(join(folder, PRISMA_LOCK_FILE))) return { kind: "prisma", folder };
  if (isDirectory(folder)) {
    try {
      if (readPrismaFolder(folder).length > 0) return { kind: "prisma", folder };
    } catch {
      // not a Prisma folder either: the error below says what was expected
    }
  }
  throw new MigrationError(
    "invalid-folder",
    null,
    `${folder} is neither a drizzle-kit migrations folder (meta/_journal.json) nor a Prisma one ` +
      `(${PRISMA_LOCK_FILE} or <name>/${PRISMA_MIGRATION_FILE})`,
  );
}
