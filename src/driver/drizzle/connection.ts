// Drizzle's `connection` (a path, or better-sqlite3's options with `source`) mapped onto the
// node's settings: the one database file a litefs-node connection may open.
import { basename, dirname, isAbsolute, resolve } from "node:path";
import { isSameDir } from "../../config/paths.js";
import { fileNameProblem } from "../../config/paths.js";
import type { LiteFSSettings } from "../../config/index.js";
import { ConfigError } from "../../errors.js";
import type { OpenGuardedDatabaseOptions } from "../open.js";

/** better-sqlite3's connection options as drizzle-orm takes them, `timeout` being the busy timeout. */
export interface LiteFSConnectionOptions {
  /**
   * The database file. Dev mode: a path (relative to the working directory), as drizzle-orm
   * opens it. LiteFS mode: a file name inside the mount ("app.db" is `<mountPath>/app.db`), or
   * that absolute path. Default: the settings' database (`databaseName` / `devDatabasePath`).
   */
  source?: string;
  /** SQLite busy timeout in ms. Default 5000. */
  timeout?: number;
  readonly?: boolean;
  fileMustExist?: boolean;
  verbose?: (message?: unknown, ...additionalArgs: unknown[]) => void;
  nativeBinding?: string | object;
}

export type LiteFSConnection = string | LiteFSConnectionOptions;

function refuse(message: string): never {
  throw new ConfigError([{ setting: "connection.source", env: null, message }]);
}

/** `settings` with the database `source` names (unchanged when it names none). */
export function settingsWithSource(settings: LiteFSSettings, source: string | undefined): LiteFSSettings {
  if (source === undefined) return settings;
  if (typeof source !== "string" || source.trim() === "" || source.includes("\0")) {
    refuse(`must be the database file, e.g. "app.db", got ${JSON.stringify(source)}`);
  }
  if (source === ":memory:" || source.startsWith("file:")) {
    refuse(
      `must be a database file, got ${JSON.stringify(source)}: LiteFS replicates files (use drizzle-orm/better-sqlite3 for an in-memory database)`,
    );
  }
  if (!settings.enabled) return Object.freeze({ ...settings, devDatabasePath: resolve(source) });
  const name = isAbsolute(source) && isSameDir(dirname(source), settings.mountPath) ? basename(source) : source;
  const problem = fileNameProblem(name);
  if (problem !== null) {
    refuse(
      `must be a database file directly inside the LiteFS mount ${JSON.stringify(settings.mountPath)} (e.g. "app.db"): ${problem}`,
    );
  }
  return Object.freeze({ ...settings, databaseName: name });
}

/** The GuardedDatabase options a connection object asks for. */
export function connectionOpenOptions(connection: LiteFSConnection | undefined): OpenGuardedDatabaseOptions {
  if (connection === undefined || typeof connection === "string") return {};
  const { timeout, readonly, fileMustExist, verbose, nativeBinding } = connection;
  return {
    ...(timeout !== undefined ? { busyTimeoutMs: timeout } : {}),
    ...(readonly !== undefined ? { readonly } : {}),
    ...(fileMustExist !== undefined ? { fileMustExist } : {}),
    ...(verbose !== undefined ? { verbose } : {}),
    ...(nativeBinding !== undefined ? { nativeBinding } : {}),
  };
}

export function connectionSource(connection: LiteFSConnection | undefined): string | undefined {
  return typeof connection === "string" ? connection : connection?.source;
}
