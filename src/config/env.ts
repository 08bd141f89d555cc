// LITEFS_* environment variables -> a settings input object. Only text parsing happens here
// (booleans, comma lists, port numbers); every rule about values lives in the schema, so a value
// breaks the same rule with the same message whether it came from the env or from code.

import type { ConfigIssue } from "../errors.js";
import { SETTINGS_REFERENCE, type EnvKind } from "./reference.js";

export type RawSettings = Record<string, unknown>;

export interface EnvReadResult {
  /** Nested like LiteFSSettingsInput ("raft.peers" -> { raft: { peers } }); unset variables absent. */
  readonly input: RawSettings;
  /** Variables whose text could not be parsed at all (e.g. LITEFS_ENABLED=maybe). */
  readonly issues: readonly ConfigIssue[];
}

const TRUE_WORDS = new Set(["true", "1", "yes"]);
const FALSE_WORDS = new Set(["false", "0", "no"]);

type Parsed = { ok: true; value: unknown } | { ok: false; message: string };

function parseText(kind: EnvKind, text: string): Parsed {
  switch (kind) {
    case "string":
      return { ok: true, value: text };
    case "boolean": {
      const word = text.toLowerCase();
      if (TRUE_WORDS.has(word)) return { ok: true, value: true };
      if (FALSE_WORDS.has(word)) return { ok: true, value: false };
      return { ok: false, message: `must be true/false, 1/0 or yes/no, got ${JSON.stringify(text)}` };
    }
    case "boolean-or-comparison": {
      // "${FLY_REGION == PRIMARY_REGION}" stays text for LiteFS to evaluate; the schema judges it.
      if (text.startsWith("${")) return { ok: true, value: text };
      return parseText("boolean", text);
    }
    case "list":
      // "a:1, b:2" and a trailing comma are both common in hand-written env files.
      return {
        ok: true,
        value: text
          .split(",")
          .map((item) => item.trim())
          .filter((item) => item !== ""),
      };
    case "port":
      if (!/^\d+$/.test(text)) {
        return { ok: false, message: `must be a port number from 1 to 65535, got ${JSON.stringify(text)}` };
      }
      // Range is the schema's rule, so "70000" gets the same message as leasePort: 70000.
      return { ok: true, value: Number(text) };
  }
}

function setPath(target: RawSettings, dotted: string, value: unknown): void {
  const parts = dotted.split(".");
  let node = target;
  for (const part of parts.slice(0, -1)) {
    const next = node[part];
    if (next === undefined) node[part] = {};
    node = node[part] as RawSettings;
  }
  node[parts[parts.length - 1] as string] = value;
}

/**
 * Reads every LITEFS_* variable the settings table names. An empty or blank variable counts as
 * unset: `LITEFS_PROXY_ADDR=` in a compose file means "no proxy", not "an empty address".
 */
export function readEnvSettings(env: NodeJS.ProcessEnv): EnvReadResult {
  const input: RawSettings = {};
  const issues: ConfigIssue[] = [];
  for (const row of SETTINGS_REFERENCE) {
    const raw = [row.env, ...(row.aliases ?? [])]
      .map((name) => env[name])
      .find((v) => v !== undefined && v.trim() !== "");
    if (raw === undefined) continue;
    const text = raw.trim();
    if (text === "") continue;
    const parsed = parseText(row.kind, text);
    if (parsed.ok) setPath(input, row.setting, parsed.value);
    else issues.push({ setting: row.setting, env: row.env, message: parsed.message });
  }
  return { input, issues };
}
