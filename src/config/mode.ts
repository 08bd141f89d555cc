// Which mode `enabled` defaults to when nobody set it. The rule keeps a laptop's first run working
// (no LiteFS, a local SQLite file) and makes that local file unreachable by accident in production:
//   - any LiteFS setting given (env or object): LiteFS mode, validated as usual;
//   - nothing given and NODE_ENV is not "production": dev mode (a local file, always writable);
//   - nothing given and NODE_ENV is "production": a ConfigError; production never silently
//     writes a local file. LITEFS_ENABLED=false (enabled: false) asks for dev mode explicitly.
import type { ConfigIssue } from "../errors.js";
import type { RawSettings } from "./env.js";

/** Settings that mean nothing without LiteFS. The others apply to dev mode too. */
const BOTH_MODES = new Set(["enabled", "devDatabasePath", "databaseName"]);

export type EnabledDefault =
  { readonly ok: true; readonly enabled: boolean } | { readonly ok: false; readonly issue: ConfigIssue };

/** Names of the LiteFS-only settings present in `merged` (null and undefined count as absent). */
function liteFSSettingsGiven(merged: RawSettings): string[] {
  return Object.keys(merged).filter((key) => !BOTH_MODES.has(key) && merged[key] !== undefined && merged[key] !== null);
}

/** The default of `enabled` for these merged settings, or the problem that leaves none. */
export function defaultEnabled(merged: RawSettings, env: NodeJS.ProcessEnv): EnabledDefault {
  if (liteFSSettingsGiven(merged).length > 0) return { ok: true, enabled: true };
  if (env["NODE_ENV"] !== "production") return { ok: true, enabled: false };
  return {
    ok: false,
    issue: {
      setting: "enabled",
      env: "LITEFS_ENABLED",
      message:
        'LiteFS is not configured and NODE_ENV is "production": set LITEFS_NODE_ID and the cluster settings ' +
        "(LITEFS_PRIMARY_HOSTNAME, or LITEFS_LEADER_ELECTION=raft or consul with its settings), or set LITEFS_ENABLED=false " +
        "to use a local SQLite file on purpose",
    },
  };
}

/**
 * Why the settings read from `env` are in dev mode, for messages of commands that need LiteFS: the
 * rule above, told truthfully (nobody may have set LITEFS_ENABLED at all).
 */
export function devModeReason(env: NodeJS.ProcessEnv): string {
  const explicit = env["LITEFS_ENABLED"];
  if (explicit !== undefined && explicit.trim() !== "") return `dev mode: LITEFS_ENABLED=${explicit.trim()}`;
  return (
    'dev mode: no LiteFS setting is set (such as LITEFS_NODE_ID) and NODE_ENV is not "production", ' +
    "so the default is a local SQLite file"
  );
}
