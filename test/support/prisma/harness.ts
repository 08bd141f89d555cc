// Shared setup for the Prisma adapter tests: a temp SQLite file with the test schema (created by
// SQL DDL, as `prisma migrate` cannot run offline) and Prisma clients on it.
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { loadSettings, type LiteFSSettings } from "../../../src/config/index.js";
import { PrismaLiteFS, type PrismaLiteFSOptions } from "../../../src/driver/prisma/index.js";
import { PrismaClient } from "../generated/prisma/client.js";
import { prismaSchemaSqlPath } from "../prisma-generate.js";

export { PrismaClient };
export { Prisma } from "../generated/prisma/client.js";

export interface TempSchemaDatabase {
  readonly dir: string;
  readonly file: string;
  cleanup(): void;
}

/** Runs the test schema's DDL on `file` (created if missing) in WAL mode. */
export function applyTestSchema(file: string): void {
  const db = new Database(file);
  try {
    db.pragma("journal_mode = WAL");
    db.exec(readFileSync(prismaSchemaSqlPath, "utf8"));
  } finally {
    db.close();
  }
}

/** A fresh temp directory holding `db` with the test schema applied. */
export function createTempSchemaDatabase(name = "db"): TempSchemaDatabase {
  const dir = mkdtempSync(join(tmpdir(), "litefs-node-prisma-"));
  const file = join(dir, name);
  applyTestSchema(file);
  return { dir, file, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Dev-mode settings for a local file (no LiteFS, always writable); the env is not consulted. */
export function devSettings(file: string): LiteFSSettings {
  return loadSettings({ enabled: false, devDatabasePath: file }, {});
}

/** A Prisma client on `file` through our adapter, in dev mode. */
export function devClient(file: string, options: Omit<PrismaLiteFSOptions, "settings"> = {}): PrismaClient {
  return new PrismaClient({ adapter: new PrismaLiteFS({ ...options, settings: devSettings(file) }) });
}
