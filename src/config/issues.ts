// zod issues -> ConfigIssue: the dotted setting name, its env variable, and a message a person
// can act on. Field rules already write good messages; this covers zod's own (wrong type,
// unknown key) and adds where in a list the bad item is.

import type * as z from "zod";
import type { ConfigIssue } from "../errors.js";
import { envNameOf } from "./reference.js";
import { SETTING_KEYS } from "./schema.js";

function describe(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "a list";
  if (typeof value === "string") return JSON.stringify(value);
  if (typeof value === "number" || typeof value === "boolean") return `${typeof value} ${String(value)}`;
  return typeof value === "object" ? "an object" : typeof value;
}

const EXPECTED_WORDS: Record<string, string> = {
  string: "a string",
  number: "a number",
  boolean: "true or false",
  array: "a list",
  object: "an object",
};

function knownKeysAt(path: readonly string[]): readonly string[] {
  if (path.length === 0) return SETTING_KEYS.root;
  if (path[0] === "proxy") return SETTING_KEYS.proxy;
  if (path[0] === "raft") return SETTING_KEYS.raft;
  if (path[0] === "consul") return SETTING_KEYS.consul;
  return [];
}

function settingIssue(setting: string, message: string): ConfigIssue {
  return { setting, env: envNameOf(setting), message };
}

export function toConfigIssues(issues: readonly z.core.$ZodIssue[], input: unknown): ConfigIssue[] {
  const out: ConfigIssue[] = [];
  for (const zodIssue of issues) {
    const names = zodIssue.path.filter((p): p is string => typeof p === "string");
    const index = zodIssue.path.find((p): p is number => typeof p === "number");
    const setting = names.join(".") || "settings";
    const where = index === undefined ? "" : `item ${index + 1}: `;

    if (zodIssue.code === "unrecognized_keys") {
      const known = knownKeysAt(names).join(", ");
      for (const key of zodIssue.keys) {
        out.push({
          setting: [...names, key].join("."),
          env: null,
          message: `is not a known setting (known${names.length ? ` in ${names.join(".")}` : ""}: ${known})`,
        });
      }
      continue;
    }
    if (zodIssue.code === "invalid_type") {
      const expected = EXPECTED_WORDS[zodIssue.expected] ?? zodIssue.expected;
      const got = valueAt(input, zodIssue.path);
      out.push(
        settingIssue(
          setting,
          `${where}must be ${expected}${zodIssue.expected === "object" ? " or null" : ""}, got ${describe(got)}`,
        ),
      );
      continue;
    }
    out.push(settingIssue(setting, `${where}${zodIssue.message}`));
  }
  return out;
}

function valueAt(input: unknown, path: readonly PropertyKey[]): unknown {
  let node = input;
  for (const key of path) {
    if (node === null || typeof node !== "object") return undefined;
    node = (node as Record<PropertyKey, unknown>)[key];
  }
  return node;
}
