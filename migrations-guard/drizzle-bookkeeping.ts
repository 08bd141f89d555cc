// drizzle-orm's bookkeeping table for SQLite, `__drizzle_migrations` by default:
//   id SERIAL PRIMARY KEY, hash text NOT NULL, created_at numeric
// (In SQLite "SERIAL PRIMARY KEY" is not a rowid alias, so drizzle's rows carry id NULL; we
// insert exactly what drizzle-orm inserts, hash and created_at, so the rows are indistinguishable.)
import type BetterSqlite3 from "better-sqlite3";

export const DEFAULT_DRIZZLE_MIGRATIONS_TABLE = "__drizzle_migrations";

/** SQLite identifier quoting ("a""b"). */
function quoteIdentifier(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

export function checkTableName(name: string): string {
  if (typeof name !== "string" || name.trim() === "" || name.includes("\0")) {
    throw new TypeError(`migrationsTable must be a non-empty table name, got ${JSON.stringify(name)}`);
  }
  return name;
}

export function createDrizzleTableSql(table: string): string {
  return `CREATE TABLE IF NOT EXISTS ${quoteIdentifier(table)} (\n\tid SERIAL PRIMARY KEY,\n\thash text NOT NULL,\n\tcreated_at numeric\n)`;
}

export function insertDrizzleRecordSql(table: string): string {
  return `INSERT INTO ${quoteIdentifier(table)} ("hash", "created_at") VALUES (?, ?)`;
}

function tableExists(db: BetterSqlite3.Database, table: string): boolean {
  return db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?").get(table) !== undefined;
}

/** `created_at` of the newest row (drizzle's "last applied"), or null when none or no table. */
export function lastDrizzleCreatedAt(db: BetterSqlite3.Database, table: string): number | null {
  if (!tableExists(db, table)) return null;
  const row = db.prepare(`SELECT created_at FROM ${quoteIdentifier(table)} ORDER BY created_at DESC LIMIT 1`).get() as
    { created_at: unknown } | undefined;
  if (row === undefined || row.created_at === null) return null;
  const value = Number(row.created_at);
  return Number.isFinite(value) ? value : null;
}
