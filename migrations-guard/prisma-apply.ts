// Applies Prisma migration folders like `prisma migrate deploy` would, without Prisma's native
// schema engine: each pending migration in its own `BEGIN IMMEDIATE` transaction together with
// its `_prisma_migrations` row (so a crash never leaves a half-recorded migration), a failure
// rolled back and then recorded with its error in `logs`, and the two refusals Prisma makes:
// nothing runs past a recorded failed migration, and nothing runs when an applied migration's
// file changed.
import { randomUUID } from "node:crypto";
import type BetterSqlite3 from "better-sqlite3";
import { isNotPrimaryError, isSplitBrainError } from "../src/errors.js";
import { MigrationError } from "./errors.js";
import {
  CREATE_PRISMA_MIGRATIONS_TABLE,
  insertPrismaRecord,
  PRISMA_MIGRATIONS_TABLE,
  prismaTableExists,
  readPrismaRecords,
  userTables,
  type PrismaMigrationRecord,
} from "./prisma-bookkeeping.js";
import { prismaChecksumMatches, type PrismaMigration } from "./prisma-folder.js";
import { inWriteTransaction } from "./sqlite-transaction.js";

export interface PrismaApplyOptions {
  /** Clock for started_at / finished_at (unix ms). Default Date.now. */
  readonly now?: () => number;
  /** Row ids. Default crypto.randomUUID. */
  readonly newId?: () => string;
}

function describeTime(value: number | string | null): string {
  if (typeof value === "number") return new Date(value).toISOString();
  return value ?? "an unknown time";
}

function blockedByFailed(record: PrismaMigrationRecord): MigrationError {
  const firstLogLine = record.logs?.split("\n").find((line) => line.trim() !== "") ?? "no logs recorded";
  return new MigrationError(
    "blocked-by-failed",
    record.migrationName,
    `migration "${record.migrationName}" (started at ${describeTime(record.startedAt)}) is recorded as failed in ` +
      `${PRISMA_MIGRATIONS_TABLE} (${firstLogLine}); no new migrations are applied until it is resolved, as with Prisma's P3009: ` +
      `fix the database, then mark it rolled back (\`prisma migrate resolve --rolled-back ${record.migrationName}\`, ` +
      "which re-applies it next time) or applied (`--applied`)",
  );
}

function checksumMismatch(migration: PrismaMigration, record: PrismaMigrationRecord): MigrationError {
  return new MigrationError(
    "checksum-mismatch",
    migration.name,
    `migration "${migration.name}" was modified after it was applied: ${migration.file} has checksum ` +
      `${migration.checksum}, ${PRISMA_MIGRATIONS_TABLE} recorded ${record.checksum}; ` +
      "restore the applied file and put the change in a new migration",
  );
}

/** Throws when the recorded history forbids applying anything (failed row, or a changed file). */
function assertPrismaHistoryUsable(
  migrations: readonly PrismaMigration[],
  records: readonly PrismaMigrationRecord[],
): void {
  const failed = records.find((r) => r.state === "failed");
  if (failed) throw blockedByFailed(failed);
  for (const migration of migrations) {
    for (const record of records) {
      if (
        record.migrationName === migration.name &&
        record.state === "applied" &&
        !prismaChecksumMatches(migration.script, record.checksum)
      ) {
        throw checksumMismatch(migration, record);
      }
    }
  }
}

function isApplied(records: readonly PrismaMigrationRecord[], name: string): boolean {
  return records.some((r) => r.migrationName === name && r.state === "applied");
}

/** Names of `migrations` without an applied row in `records` (a missing table: all of them). */
export function unappliedPrismaMigrations(
  migrations: readonly PrismaMigration[],
  records: readonly PrismaMigrationRecord[] | null,
): string[] {
  return migrations.filter((m) => !isApplied(records ?? [], m.name)).map((m) => m.name);
}

// Prisma creates its table only in an empty database (P3005); a database with tables and no
// history needs baselining, which is a human decision.
function ensureTable(db: BetterSqlite3.Database): void {
  if (prismaTableExists(db)) return;
  const tables = userTables(db);
  if (tables.length > 0) {
    throw new MigrationError(
      "not-empty",
      null,
      `the database has tables (${tables.join(", ")}) but no ${PRISMA_MIGRATIONS_TABLE} table, so its history is unknown ` +
        "(Prisma's P3005): baseline it first (record the migrations that are already in the schema as applied)",
    );
  }
  db.exec(CREATE_PRISMA_MIGRATIONS_TABLE);
}

function failureLogs(migration: PrismaMigration, error: unknown): string {
  const code = (error as { code?: unknown }).code;
  const message = error instanceof Error ? error.message : String(error);
  return [
    `Migration name: ${migration.name}`,
    "",
    ...(typeof code === "string" ? [`Database error code: ${code}`, ""] : []),
    "Database error:",
    message,
    "",
    "Applied by litefs-node migrations-guard; the migration's transaction was rolled back.",
  ].join("\n");
}

type StepOutcome = { kind: "applied" } | { kind: "already-applied" } | { kind: "failed"; error: unknown };

function applyOne(
  db: BetterSqlite3.Database,
  migration: PrismaMigration,
  startedAt: number,
  now: () => number,
  newId: () => string,
): StepOutcome {
  let scriptError: unknown = null;
  try {
    return inWriteTransaction(db, (): StepOutcome => {
      // Read again under the write lock: another applier may have run since the first look.
      const records = readPrismaRecords(db) ?? [];
      assertPrismaHistoryUsable([migration], records);
      if (isApplied(records, migration.name)) return { kind: "already-applied" };
      try {
        db.exec(migration.script);
      } catch (error) {
        scriptError = error;
        throw error;
      }
      insertPrismaRecord(db, {
        id: newId(),
        checksum: migration.checksum,
        migrationName: migration.name,
        startedAt,
        finishedAt: now(),
        logs: null,
        appliedStepsCount: 1,
      });
      return { kind: "applied" };
    });
  } catch (error) {
    if (scriptError === null || isNotPrimaryError(error) || isSplitBrainError(error)) throw error;
    return { kind: "failed", error };
  }
}

function recordFailure(
  db: BetterSqlite3.Database,
  migration: PrismaMigration,
  error: unknown,
  startedAt: number,
  newId: () => string,
): MigrationError {
  const message = error instanceof Error ? error.message : String(error);
  const failure = new MigrationError(
    "failed",
    migration.name,
    `Prisma migration "${migration.name}" failed (${migration.file}): ${message}; it was rolled back and recorded as failed ` +
      `in ${PRISMA_MIGRATIONS_TABLE}, which blocks later migrations until it is resolved`,
    { cause: error },
  );
  try {
    inWriteTransaction(db, () =>
      insertPrismaRecord(db, {
        id: newId(),
        checksum: migration.checksum,
        migrationName: migration.name,
        startedAt,
        finishedAt: null,
        logs: failureLogs(migration, error),
        appliedStepsCount: 0,
      }),
    );
  } catch (recordError) {
    // Still report the migration's own failure; say that it is not recorded.
    return new MigrationError(
      "failed",
      migration.name,
      `${failure.message} (recording the failure failed too: ${recordError instanceof Error ? recordError.message : String(recordError)})`,
      { cause: error },
    );
  }
  return failure;
}

/** Applies the pending migrations in order; returns the names applied (empty when up to date). */
export function applyPrismaMigrations(
  db: BetterSqlite3.Database,
  migrations: readonly PrismaMigration[],
  options: PrismaApplyOptions = {},
): string[] {
  const now = options.now ?? Date.now;
  const newId = options.newId ?? randomUUID;
  const records = inWriteTransaction(db, () => {
    ensureTable(db);
    return readPrismaRecords(db) ?? [];
  });
  assertPrismaHistoryUsable(migrations, records);
  const applied: string[] = [];
  for (const migration of migrations) {
    if (isApplied(records, migration.name)) continue;
    const startedAt = now();
    const outcome = applyOne(db, migration, startedAt, now, newId);
    if (outcome.kind === "failed") throw recordFailure(db, migration, outcome.error, startedAt, newId);
    if (outcome.kind === "applied") applied.push(migration.name);
  }
  return applied;
}
