// A small replicated key-value state machine (test-only, not shipped): the test workload for the
// runner and the model for the lease service's state machine (commands as JSON, results as values, whole-state
// snapshots, never throwing on bad input).

import type { StateMachine } from "../../../src/raft/runner.js";
import type { Entry } from "../../../src/raft/types.js";

export type KvCommand =
  | { readonly op: "put"; readonly key: string; readonly value: string }
  | { readonly op: "delete"; readonly key: string }
  /** Set `value` only if the current value is `expect` (null = absent). */
  | { readonly op: "cas"; readonly key: string; readonly expect: string | null; readonly value: string };

export type KvResult =
  | { readonly ok: true; readonly index: number; readonly prev: string | null }
  | { readonly ok: false; readonly index: number; readonly error: string; readonly current?: string | null };

const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });

export function encodeKvCommand(cmd: KvCommand): Uint8Array {
  return encoder.encode(JSON.stringify(cmd));
}

function parseCommand(data: Uint8Array): KvCommand | string {
  let raw: unknown;
  try {
    raw = JSON.parse(decoder.decode(data));
  } catch (e) {
    return `not a JSON command: ${(e as Error).message}`;
  }
  const c = raw as Record<string, unknown> | null;
  if (!c || typeof c !== "object" || typeof c.key !== "string") return "command needs a string key";
  if (c.op === "put" && typeof c.value === "string") return { op: "put", key: c.key, value: c.value };
  if (c.op === "delete") return { op: "delete", key: c.key };
  if (c.op === "cas" && typeof c.value === "string" && (c.expect === null || typeof c.expect === "string")) {
    return { op: "cas", key: c.key, expect: c.expect, value: c.value };
  }
  return `unknown or malformed op ${JSON.stringify(c.op)}`;
}

export class KvStateMachine implements StateMachine<KvResult> {
  private data = new Map<string, string>();

  get(key: string): string | null {
    return this.data.get(key) ?? null;
  }

  get size(): number {
    return this.data.size;
  }

  entries(): [string, string][] {
    return [...this.data.entries()];
  }

  apply(entry: Entry): KvResult {
    const cmd = parseCommand(entry.data);
    if (typeof cmd === "string") return { ok: false, index: entry.index, error: cmd };
    const prev = this.get(cmd.key);
    switch (cmd.op) {
      case "put":
        this.data.set(cmd.key, cmd.value);
        return { ok: true, index: entry.index, prev };
      case "delete":
        this.data.delete(cmd.key);
        return { ok: true, index: entry.index, prev };
      case "cas":
        if (prev !== cmd.expect) return { ok: false, index: entry.index, error: "compare failed", current: prev };
        this.data.set(cmd.key, cmd.value);
        return { ok: true, index: entry.index, prev };
    }
  }

  snapshot(): Uint8Array {
    // Sorted so equal states give equal bytes (handy when comparing replicas).
    const pairs = [...this.data.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return encoder.encode(JSON.stringify(pairs));
  }

  restore(bytes: Uint8Array): void {
    const pairs = JSON.parse(decoder.decode(bytes)) as unknown;
    if (
      !Array.isArray(pairs) ||
      !pairs.every((p) => Array.isArray(p) && p.length === 2 && typeof p[0] === "string" && typeof p[1] === "string")
    ) {
      throw new Error("KV snapshot is not a list of [key, value] string pairs");
    }
    this.data = new Map(pairs as [string, string][]);
  }
}
