// loadSettings(): object over LITEFS_* env, validated by the one schema, defaults filled,
// frozen. Throws one ConfigError that lists every problem found.

import { ConfigError, type ConfigIssue } from "../errors.js";
import { readEnvSettings, type RawSettings } from "./env.js";
import { toConfigIssues } from "./issues.js";
import { defaultEnabled } from "./mode.js";
import { settingsSchema } from "./schema.js";
import type { LiteFSSettings, LiteFSSettingsInput } from "./types.js";

function isPlainObject(value: unknown): value is RawSettings {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * Object wins, key by key: an undefined key falls back to the env, anything else (null included)
 * replaces it. proxy and raft merge one level down, so LITEFS_RAFT_PEERS still fills peers when
 * the object sets only raft.leasePort; an object's `proxy: null` / `raft: null` turns the env's off.
 */
function merge(fromEnv: RawSettings, fromObject: RawSettings): RawSettings {
  const merged: RawSettings = { ...fromEnv };
  for (const [key, value] of Object.entries(fromObject)) {
    if (value === undefined) continue;
    const envValue = fromEnv[key];
    merged[key] = isPlainObject(value) && isPlainObject(envValue) ? merge(envValue, value) : value;
  }
  return merged;
}

function deepFreeze<T>(value: T): T {
  if (typeof value === "object" && value !== null && !Object.isFrozen(value)) {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}

/**
 * Reads litefs-node settings from `input` and LITEFS_* variables in `env` (input wins).
 * Without `enabled`: LiteFS mode when any LiteFS setting is given, else dev mode, except under
 * NODE_ENV=production, where that is a ConfigError (see mode.ts).
 * Returns deeply frozen settings with every default filled in.
 * @throws ConfigError listing every problem, each with its setting and env variable.
 */
export function loadSettings(input?: LiteFSSettingsInput, env: NodeJS.ProcessEnv = process.env): LiteFSSettings {
  // Callers in plain JS (or JSON config) can pass anything; say so instead of crashing.
  const given: unknown = input ?? {};
  if (!isPlainObject(given)) {
    throw new ConfigError([
      {
        setting: "settings",
        env: null,
        message: "must be an object of settings (or omitted to use LITEFS_* variables)",
      },
    ]);
  }
  const fromEnv = readEnvSettings(env);
  const merged = merge(fromEnv.input, given);
  // `enabled` unset: LiteFS mode when LiteFS is configured, else dev mode outside production (mode.ts).
  if (merged.enabled === undefined) {
    const fallback = defaultEnabled(merged, env);
    if (!fallback.ok) throw new ConfigError([...fromEnv.issues, fallback.issue]);
    merged.enabled = fallback.enabled;
  }
  const result = settingsSchema().safeParse(merged);

  // A variable that could not be parsed was left out; drop zod's follow-up about that setting.
  const envSettings = new Set(fromEnv.issues.map((i) => i.setting));
  const schemaIssues: ConfigIssue[] = result.success ? [] : toConfigIssues(result.error.issues, merged);
  const issues = [...fromEnv.issues, ...schemaIssues.filter((i) => !envSettings.has(i.setting))];
  if (issues.length > 0 || !result.success) throw new ConfigError(issues);
  return deepFreeze(result.data);
}
