// The Prisma test schema on a SQLite file, without the generated client: what code that runs
// before the client exists needs (the benchmark imports this, then generates the client, then
// imports the client; harness.ts re-exports it for the tests).
import { readFileSync } from "node:fs";
import Database from "better-sqlite3";
import { loadSettings, type LiteFSSettings } from "../../../src/config/index.js";
import { prismaSchemaSqlPath } from "../prisma-generate.js";

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

/** Dev-mode settings for a local file (no LiteFS, always writable); the env is not consulted. */
export function devSettings(file: string): LiteFSSettings {
  return loadSettings({ enabled: false, devDatabasePath: file }, {});
}
