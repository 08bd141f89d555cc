// Prisma's `_prisma_migrations` table, in the exact shape Prisma's SQLite schema engine creates
// it, with rows written the way it writes them (uuid ids, sha256 checksums, timestamps as unix
// milliseconds), so `prisma migrate status` run elsewhere reads our rows as its own.
//
// A row's state:      finished_at   rolled_back_at
//   applied           set           NULL
//   failed            NULL          NULL            -> blocks every later migration (P3009)
//   rolled back       any           set             -> ignored; the migration counts as not applied
import type BetterSqlite3 from "better-sqlite3";

export const PRISMA_MIGRATIONS_TABLE = "_prisma_migrations";

export const CREATE_PRISMA_MIGRATIONS_TABLE = `CREATE TABLE "_prisma_migrations" (
    "id"                    TEXT PRIMARY KEY NOT NULL,
    "checksum"              TEXT NOT NULL,
    "finished_at"           DATETIME,
    "migration_name"        TEXT NOT NULL,
    "logs"                  TEXT,
    "rolled_back_at"        DATETIME,
    "started_at"            DATETIME NOT NULL DEFAULT current_timestamp,
    "applied_steps_count"   INTEGER UNSIGNED NOT NULL DEFAULT 0
);
`;

export type PrismaRecordState = "applied" | "failed" | "rolled-back";

export interface PrismaMigrationRecord {
  readonly id: string;
  readonly checksum: string;
  readonly migrationName: string;
  /** Raw column values: unix ms from Prisma and from us, text for SQLite's current_timestamp. */
  readonly startedAt: number | string | null;
  readonly finishedAt: number | string | null;
  readonly rolledBackAt: number | string | null;
  readonly logs: string | null;
  readonly appliedStepsCount: number;
  readonly state: PrismaRecordState;
}

export interface NewPrismaRecord {
  readonly id: string;
  readonly checksum: string;
  readonly migrationName: string;
  readonly startedAt: number;
  /** null for a failed migration. */
  readonly finishedAt: number | null;
  readonly logs: string | null;
  readonly appliedStepsCount: number;
}

interface Row {
  id: string;
  checksum: string;
  finished_at: number | string | null;
  migration_name: string;
  logs: string | null;
  rolled_back_at: number | string | null;
  started_at: number | string | null;
  applied_steps_count: number | bigint;
}

function stateOf(row: Row): PrismaRecordState {
  if (row.rolled_back_at !== null) return "rolled-back";
  return row.finished_at === null ? "failed" : "applied";
}

export function prismaTableExists(db: BetterSqlite3.Database): boolean {
  return (
    db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?").get(PRISMA_MIGRATIONS_TABLE) !==
    undefined
  );
}

/** Tables Prisma would count as "the schema is not empty" (everything but SQLite's own). */
export function userTables(db: BetterSqlite3.Database): string[] {
  const rows = db
    .prepare(
      "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' AND name <> ? ORDER BY name",
    )
    .all(PRISMA_MIGRATIONS_TABLE) as { name: string }[];
  return rows.map((r) => r.name);
}

/** Every row, oldest first (Prisma orders by started_at); null when the table does not exist. */
export function readPrismaRecords(db: BetterSqlite3.Database): PrismaMigrationRecord[] | null {
  if (!prismaTableExists(db)) return null;
  const rows = db
    .prepare(
      `SELECT id, checksum, finished_at, migration_name, logs, rolled_back_at, started_at, applied_steps_count
       FROM "${PRISMA_MIGRATIONS_TABLE}" ORDER BY started_at ASC, rowid ASC`,
    )
    .all() as Row[];
  return rows.map((row) =>
    Object.freeze({
      id: row.id,
      checksum: row.checksum,
      migrationName: row.migration_name,
      startedAt: row.started_at,
      finishedAt: row.finished_at,
      rolledBackAt: row.rolled_back_at,
      logs: row.logs,
      appliedStepsCount: Number(row.applied_steps_count),
      state: stateOf(row),
    }),
  );
}

export function insertPrismaRecord(db: BetterSqlite3.Database, record: NewPrismaRecord): void {
  db.prepare(
    `INSERT INTO "${PRISMA_MIGRATIONS_TABLE}"
       (id, checksum, finished_at, migration_name, logs, rolled_back_at, started_at, applied_steps_count)
     VALUES (?, ?, ?, ?, ?, NULL, ?, ?)`,
  ).run(
    record.id,
    record.checksum,
    record.finishedAt,
    record.migrationName,
    record.logs,
    record.startedAt,
    record.appliedStepsCount,
  );
}
