// The one way ORM entries open the database of a node: path from the settings, gate from the node.

import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { databasePath, type LiteFSSettings } from "../config/index.js";
import type { LiteFSNode } from "../election/node.js";
import { recordRefusalError } from "../health/metrics.js";
import { GuardedDatabase, type GuardedDatabaseOptions } from "./guarded-database.js";

/** The connection options an ORM entry may pass through (gate and refusal hook are the node's). */
export type OpenGuardedDatabaseOptions = Pick<GuardedDatabaseOptions, "busyTimeoutMs" | "readonly" | "fileMustExist" | "verbose" | "nativeBinding">;

/**
 * Opens `<mountPath>/<databaseName>` (dev mode: `devDatabasePath`, creating its directory) as a
 * GuardedDatabase behind `node.gate`. On a writable node the database is switched to WAL; on a
 * replica it must already exist in WAL mode (LiteFSError otherwise).
 */
export function openGuardedDatabase(
  settings: LiteFSSettings,
  node: LiteFSNode,
  options: OpenGuardedDatabaseOptions = {},
): GuardedDatabase {
  const file = databasePath(settings);
  // Dev mode owns its directory. A LiteFS mount is LiteFS's: never create it (a missing mount
  // directory means LiteFS is not running, and SQLite's error says so).
  if (!settings.enabled) mkdirSync(dirname(file), { recursive: true });
  return new GuardedDatabase(file, {
    ...options,
    gate: node.gate,
    // Every refused statement counts in litefs_node_write_refusals_total{reason}.
    onRefusal: recordRefusalError,
  });
}
