// The settings each litefs-node Drizzle database was opened with (its file, its mode), for
// litefs-node/drizzle/migrator. Internal: not part of any package entry.
import type { LiteFSSettings } from "../../config/index.js";

const settingsByDatabase = new WeakMap<object, LiteFSSettings>();

export function rememberDatabaseSettings(db: object, settings: LiteFSSettings): void {
  settingsByDatabase.set(db, settings);
}

/** The settings `db` was opened with, or undefined when it is not a litefs-node Drizzle database. */
export function databaseSettingsOf(db: object): LiteFSSettings | undefined {
  return settingsByDatabase.get(db);
}
