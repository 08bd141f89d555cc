// The one way ORM entries open the database of a node: path from the settings, gate from the node.

import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { databasePath, goDurationToMs, type LiteFSSettings } from "../config/index.js";
import type { LiteFSNode } from "../node/node.js";
import { recordRefusalError } from "../health/metrics.js";
import { GuardedDatabase, type GuardedDatabaseOptions } from "./guarded-database.js";
import { waitForDatabaseFile, waitForDatabaseFileSync, type DatabaseWait } from "./wait-for-database.js";

/** The connection options an ORM entry may pass through (gate and refusal hook are the node's). */
export type OpenGuardedDatabaseOptions = Pick<
  GuardedDatabaseOptions,
  "busyTimeoutMs" | "readonly" | "fileMustExist" | "verbose" | "nativeBinding"
>;

/** On a replica the file may still be on its way: how long to wait for it (settings.databaseWaitTimeout). */
function databaseWait(settings: LiteFSSettings, node: LiteFSNode): DatabaseWait {
  return {
    file: databasePath(settings),
    gate: node.gate,
    timeoutMs: settings.enabled ? (goDurationToMs(settings.databaseWaitTimeout) ?? 0) : 0,
    setting: `databaseWaitTimeout ${settings.databaseWaitTimeout}, LITEFS_DATABASE_WAIT_TIMEOUT`,
  };
}

/**
 * Opens `<mountPath>/<databaseName>` (dev mode: `devDatabasePath`, creating its directory) as a
 * GuardedDatabase behind `node.gate`. On a writable node the database is switched to WAL; on a
 * replica it must exist in WAL mode: when it is not there yet, this waits (the thread sleeps) up to
 * settings.databaseWaitTimeout for the primary's first write to bring it, then throws LiteFSError.
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
  waitForDatabaseFileSync(databaseWait(settings, node));
  return new GuardedDatabase(file, {
    ...options,
    gate: node.gate,
    // Every refused statement counts in litefs_node_write_refusals_total{reason}.
    onRefusal: recordRefusalError,
  });
}

/** openGuardedDatabase, waiting for a replica's database file without blocking the event loop. */
export async function openGuardedDatabaseWhenPresent(
  settings: LiteFSSettings,
  node: LiteFSNode,
  options: OpenGuardedDatabaseOptions = {},
  signal?: AbortSignal,
): Promise<GuardedDatabase> {
  await waitForDatabaseFile(databaseWait(settings, node), signal);
  return openGuardedDatabase(settings, node, options);
}
