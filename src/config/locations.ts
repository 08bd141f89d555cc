// Where things are, derived from settings: the LiteFS API URL this node talks to and the
// database file the driver opens.

import { join } from "node:path";
import { formatHostPort, parseListenAddr } from "./addresses.js";
import type { LiteFSSettings } from "./types.js";

const LISTEN_EVERYWHERE = new Set(["", "0.0.0.0", "::"]);

/**
 * The local LiteFS HTTP API, e.g. "http://127.0.0.1:20202". A wildcard listen host (":20202",
 * "0.0.0.0:20202", "[::]:20202") is reached on 127.0.0.1; an explicit host is kept.
 */
export function litefsApiUrl(settings: LiteFSSettings): string {
  const parsed = parseListenAddr(settings.httpAddr);
  if (!parsed.ok)
    throw new TypeError(`httpAddr ${JSON.stringify(settings.httpAddr)} is not a listen address: ${parsed.message}`);
  const { host, port } = parsed.value;
  return `http://${formatHostPort(LISTEN_EVERYWHERE.has(host) ? "127.0.0.1" : host, port)}`;
}

/** The SQLite file to open: inside the LiteFS mount when enabled, the local dev file otherwise. */
export function databasePath(settings: LiteFSSettings): string {
  return settings.enabled ? join(settings.mountPath, settings.databaseName) : settings.devDatabasePath;
}
