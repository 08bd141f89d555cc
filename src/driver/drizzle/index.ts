// `import { drizzle } from "litefs-node/drizzle"`: Drizzle's own better-sqlite3 driver on a
// GuardedDatabase, with drizzle-orm's call forms: drizzle(), drizzle("app.db"),
// drizzle("app.db", config), drizzle({ connection, ...config }). Nothing of Drizzle is wrapped:
// its session calls client.prepare(), stmt.run/all/get, stmt.raw() and client.transaction(),
// which GuardedDatabase guards.

import type { DrizzleConfig } from "drizzle-orm";
import { drizzle as drizzleBetterSqlite3, type BetterSQLite3Database } from "drizzle-orm/better-sqlite3";
import { loadSettings, type LiteFSSettings } from "../../config/index.js";
import { openNode, type LiteFSNode, type OpenNodeOptions } from "../../node/node.js";
import { GuardedDatabase } from "../guarded-database.js";
import { openGuardedDatabase } from "../open.js";
import { connectionOpenOptions, connectionSource, settingsWithSource, type LiteFSConnection } from "./connection.js";
import { rememberDatabaseSettings } from "./database-settings.js";

export * from "../entry-errors.js";
export { GuardedDatabase, type GuardedDatabaseOptions } from "../guarded-database.js";
export type { LiteFSNode } from "../../node/node.js";
export type { LiteFSSettings } from "../../config/index.js";
export type { LiteFSConnection, LiteFSConnectionOptions } from "./connection.js";

/** drizzle-orm's config (schema, logger, casing, cache, ...) plus where and how to connect. */
export interface LiteFSDrizzleConfig<
  TSchema extends Record<string, unknown> = Record<string, never>,
> extends DrizzleConfig<TSchema> {
  /** The database file and better-sqlite3 options, as drizzle-orm's `connection` (see LiteFSConnectionOptions). */
  connection?: LiteFSConnection;
  /** An open GuardedDatabase to use instead of opening one; needs `node` (the node whose gate it uses). */
  client?: GuardedDatabase;
  /** Default: `node.settings` when a node is given, else `loadSettings()` (LITEFS_* env). */
  settings?: LiteFSSettings;
  /** The node whose gate guards writes. Default: `openNode(settings, nodeOptions)`, closed by `$close()`. */
  node?: LiteFSNode;
  /** Options for the node opened here (ignored when `node` is given). */
  nodeOptions?: OpenNodeOptions;
  /** SQLite busy timeout in ms. Default 5000 (`connection.timeout` says the same). */
  busyTimeoutMs?: number;
}

export type LiteFSDrizzleDatabase<TSchema extends Record<string, unknown> = Record<string, never>> =
  BetterSQLite3Database<TSchema> & {
    /** The guarded better-sqlite3 connection. */
    $client: GuardedDatabase;
    /** This node's LiteFS state (role, primary, lag, txid, events). */
    $node: LiteFSNode;
    /** Closes the connection (unless it was given as `client`), and the node when this call opened it. */
    $close(): Promise<void>;
  };

/**
 * A Drizzle database (sync better-sqlite3 API) on `<mountPath>/<databaseName>` (dev mode:
 * `devDatabasePath`), or on the file `source` names. Writes on a node that may not write throw
 * NotPrimaryError or SplitBrainError, wrapped by Drizzle in DrizzleQueryError: test with
 * `isNotPrimaryError(e)`.
 */
export function drizzle<TSchema extends Record<string, unknown> = Record<string, never>>(
  source: string,
  config?: LiteFSDrizzleConfig<TSchema>,
): LiteFSDrizzleDatabase<TSchema>;
export function drizzle<TSchema extends Record<string, unknown> = Record<string, never>>(
  config?: LiteFSDrizzleConfig<TSchema>,
): LiteFSDrizzleDatabase<TSchema>;
export function drizzle<TSchema extends Record<string, unknown> = Record<string, never>>(
  first?: string | LiteFSDrizzleConfig<TSchema>,
  second?: LiteFSDrizzleConfig<TSchema>,
): LiteFSDrizzleDatabase<TSchema> {
  const config = checkedConfig(first, second);
  const {
    connection,
    client: givenClient,
    settings: givenSettings,
    node: givenNode,
    nodeOptions,
    busyTimeoutMs,
    ...drizzleConfig
  } = config;
  if (givenClient !== undefined && givenNode === undefined) {
    throw new TypeError("drizzle({ client }): pass the `node` whose gate the GuardedDatabase uses as well");
  }
  if (givenClient !== undefined && givenClient.gate !== givenNode?.gate) {
    throw new TypeError("drizzle({ client, node }): the client's gate is not this node's gate");
  }
  const settings = settingsWithSource(
    givenSettings ?? givenNode?.settings ?? loadSettings(),
    connectionSource(connection),
  );
  const ownsNode = givenNode === undefined;
  const node = givenNode ?? openNode(settings, nodeOptions);
  let client: GuardedDatabase;
  try {
    client =
      givenClient ??
      openGuardedDatabase(settings, node, {
        ...connectionOpenOptions(connection),
        ...(busyTimeoutMs !== undefined ? { busyTimeoutMs } : {}),
      });
  } catch (error) {
    if (ownsNode) void node.close();
    throw error;
  }
  const db = drizzleBetterSqlite3<TSchema>(client, drizzleConfig) as LiteFSDrizzleDatabase<TSchema>;
  db.$client = client;
  db.$node = node;
  db.$close = async () => {
    if (givenClient === undefined && client.open) client.close();
    if (ownsNode) await node.close();
  };
  rememberDatabaseSettings(db, settings);
  return db;
}

function checkedConfig<TSchema extends Record<string, unknown>>(
  first: string | LiteFSDrizzleConfig<TSchema> | undefined,
  second: LiteFSDrizzleConfig<TSchema> | undefined,
): LiteFSDrizzleConfig<TSchema> {
  if (typeof first === "string") {
    if (second !== undefined && (second === null || typeof second !== "object"))
      throw new TypeError("drizzle(source, config): config must be an object");
    if (second?.connection !== undefined)
      throw new TypeError(
        "drizzle(source, config): give the database either as `source` or as `config.connection`, not both",
      );
    return { ...second, connection: first };
  }
  if (first === undefined) return {};
  if (first === null || typeof first !== "object")
    throw new TypeError("drizzle(): pass a database file name or a config object");
  // A plain better-sqlite3 Database would write on replicas: only a GuardedDatabase may come in.
  if (typeof (first as { prepare?: unknown }).prepare === "function") {
    throw new TypeError(
      first instanceof GuardedDatabase
        ? "drizzle(client): pass it as drizzle({ client, node })"
        : "drizzle(database): litefs-node opens its own guarded connection; pass a file name or { connection } instead of a better-sqlite3 Database",
    );
  }
  return first;
}
