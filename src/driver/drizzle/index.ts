// `import { drizzle } from "litefs-node/drizzle"`: Drizzle's own better-sqlite3 driver on a
// GuardedDatabase. Nothing of Drizzle is wrapped: its session calls client.prepare(),
// stmt.run/all/get, stmt.raw() and client.transaction(), which GuardedDatabase guards.

import type { DrizzleConfig } from "drizzle-orm";
import { drizzle as drizzleBetterSqlite3, type BetterSQLite3Database } from "drizzle-orm/better-sqlite3";
import { loadSettings, type LiteFSSettings } from "../../config/index.js";
import { openNode, type LiteFSNode, type OpenNodeOptions } from "../../election/node.js";
import type { GuardedDatabase } from "../guarded-database.js";
import { openGuardedDatabase } from "../open.js";

export { isNotPrimaryError, isSplitBrainError, LiteFSError, NotPrimaryError, SplitBrainError, ConfigError } from "../../errors.js";
export type { NotPrimaryReason, LiteFSErrorCode } from "../../errors.js";
export { GuardedDatabase, type GuardedDatabaseOptions } from "../guarded-database.js";
export type { LiteFSNode } from "../../election/node.js";
export type { LiteFSSettings } from "../../config/index.js";

export interface LiteFSDrizzleConfig<TSchema extends Record<string, unknown> = Record<string, never>>
  extends Pick<DrizzleConfig<TSchema>, "schema" | "logger" | "casing"> {
  /** Default: `node.settings` when a node is given, else `loadSettings()` (LITEFS_* env). */
  settings?: LiteFSSettings;
  /** The node whose gate guards writes. Default: `openNode(settings, nodeOptions)`, closed by `$close()`. */
  node?: LiteFSNode;
  /** Options for the node opened here (ignored when `node` is given). */
  nodeOptions?: OpenNodeOptions;
  /** SQLite busy timeout in ms. Default 5000. */
  busyTimeoutMs?: number;
}

export type LiteFSDrizzleDatabase<TSchema extends Record<string, unknown> = Record<string, never>> =
  BetterSQLite3Database<TSchema> & {
    /** The guarded better-sqlite3 connection. */
    $client: GuardedDatabase;
    /** This node's LiteFS state (role, primary, lag, txid, events). */
    $node: LiteFSNode;
    /** Closes the connection, and the node when this call opened it. */
    $close(): Promise<void>;
  };

/**
 * A Drizzle database (sync better-sqlite3 API) on `<mountPath>/<databaseName>` (dev mode:
 * `devDatabasePath`). Writes on a node that may not write throw NotPrimaryError or
 * SplitBrainError, wrapped by Drizzle in DrizzleQueryError: test with `isNotPrimaryError(e)`.
 */
export function drizzle<TSchema extends Record<string, unknown> = Record<string, never>>(
  config: LiteFSDrizzleConfig<TSchema> = {},
): LiteFSDrizzleDatabase<TSchema> {
  const settings = config.settings ?? config.node?.settings ?? loadSettings();
  const ownsNode = config.node === undefined;
  const node = config.node ?? openNode(settings, config.nodeOptions);
  let client: GuardedDatabase;
  try {
    client = openGuardedDatabase(settings, node, {
      ...(config.busyTimeoutMs !== undefined ? { busyTimeoutMs: config.busyTimeoutMs } : {}),
    });
  } catch (error) {
    if (ownsNode) void node.close();
    throw error;
  }
  const db = drizzleBetterSqlite3<TSchema>(client, {
    ...(config.schema !== undefined ? { schema: config.schema } : {}),
    ...(config.logger !== undefined ? { logger: config.logger } : {}),
    ...(config.casing !== undefined ? { casing: config.casing } : {}),
  }) as LiteFSDrizzleDatabase<TSchema>;
  db.$client = client;
  db.$node = node;
  db.$close = async () => {
    if (client.open) client.close();
    if (ownsNode) await node.close();
  };
  return db;
}
