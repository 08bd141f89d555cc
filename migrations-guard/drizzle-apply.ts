// Applies pending drizzle-kit migrations on a writable connection. Same decisions and rows as
// drizzle-orm's migrator (so drizzle-kit, drizzle-orm and this agree on what is applied), with
// two differences that matter on LiteFS: the whole run is ONE `BEGIN IMMEDIATE` transaction
// (bookkeeping table included), and the "what is applied" read happens inside it.
import type BetterSqlite3 from "better-sqlite3";
import { isNotPrimaryError, isSplitBrainError } from "../src/errors.js";
import {
  createDrizzleTableSql,
  DEFAULT_DRIZZLE_MIGRATIONS_TABLE,
  insertDrizzleRecordSql,
  lastDrizzleCreatedAt,
} from "./drizzle-bookkeeping.js";
import { pendingDrizzleMigrations, type DrizzleMigration } from "./drizzle-folder.js";
import { MigrationError } from "./errors.js";
import { inWriteTransaction } from "./sqlite-transaction.js";

function statementFailure(migration: DrizzleMigration, index: number, error: unknown): unknown {
  // Refusals of the write gate are not migration bugs: keep their type (exit codes depend on it).
  if (isNotPrimaryError(error) || isSplitBrainError(error)) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new MigrationError(
    "failed",
    migration.tag,
    `drizzle migration "${migration.tag}" failed at statement ${index + 1} of ${migration.statements.length} ` +
      `(${migration.file}): ${message}; nothing of this run was applied`,
    { cause: error },
  );
}

/** Applies what the bookkeeping table lacks; returns the tags applied (empty when up to date). */
export function applyDrizzleMigrations(
  db: BetterSqlite3.Database,
  migrations: readonly DrizzleMigration[],
  table: string = DEFAULT_DRIZZLE_MIGRATIONS_TABLE,
): string[] {
  return inWriteTransaction(db, () => {
    db.exec(createDrizzleTableSql(table));
    const pending = pendingDrizzleMigrations(migrations, lastDrizzleCreatedAt(db, table));
    const record = db.prepare(insertDrizzleRecordSql(table));
    for (const migration of pending) {
      migration.statements.forEach((statement, index) => {
        if (statement.trim() === "") return;
        try {
          db.exec(statement);
        } catch (error) {
          throw statementFailure(migration, index, error);
        }
      });
      record.run(migration.hash, migration.when);
    }
    return pending.map((m) => m.tag);
  });
}

/** Tags of `migrations` that this database's bookkeeping table does not (yet) cover. */
export function missingDrizzleMigrations(
  db: BetterSqlite3.Database,
  migrations: readonly DrizzleMigration[],
  table: string = DEFAULT_DRIZZLE_MIGRATIONS_TABLE,
): string[] {
  return pendingDrizzleMigrations(migrations, lastDrizzleCreatedAt(db, table)).map((m) => m.tag);
}
