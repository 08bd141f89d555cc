// The replicated commands of the lease state machine and their byte encoding (JSON, like the
// model KV machine). Everything non-deterministic (session ids, the proposer's clock) is decided
// by the proposer and carried in the command, so every replica applies the same thing.

export type SessionBehavior = "release" | "delete";

export interface SessionSpec {
  readonly id: string;
  readonly name: string;
  readonly node: string;
  /** As the client sent it ("10s"); "" when the session has no TTL. */
  readonly ttl: string;
  /** Parsed TTL in ms; 0 when none. */
  readonly ttlMs: number;
  /** Integer nanoseconds, as Consul reports it. */
  readonly lockDelayNs: number;
  readonly behavior: SessionBehavior;
}

export type KvLockMode = "none" | "acquire" | "release";

export type InvalidationReason = "destroy" | "expired" | "split-brain";

export type LeaseCommand =
  | { readonly op: "session-create"; readonly session: SessionSpec }
  | { readonly op: "session-destroy"; readonly id: string; readonly reason: InvalidationReason }
  | {
      readonly op: "kv-set";
      readonly key: string;
      /** Base64 of the raw body; null for an empty body (Consul reports `"Value": null`). */
      readonly value: string | null;
      readonly flags: number;
      readonly lock: KvLockMode;
      readonly session: string | null;
    }
  | { readonly op: "kv-delete"; readonly key: string }
  /** A new leader tells followers where to forward client requests (see forward.ts). */
  | { readonly op: "announce"; readonly node: string; readonly forwardAddr: string };

const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });

export function encodeLeaseCommand(cmd: LeaseCommand): Uint8Array {
  return encoder.encode(JSON.stringify(cmd));
}

const isStr = (v: unknown): v is string => typeof v === "string";
const isCount = (v: unknown): v is number => typeof v === "number" && Number.isSafeInteger(v) && v >= 0;

function parseSession(raw: unknown): SessionSpec | null {
  if (!raw || typeof raw !== "object") return null;
  const s = raw as Record<string, unknown>;
  if (!isStr(s.id) || s.id === "" || !isStr(s.name) || !isStr(s.node) || !isStr(s.ttl)) return null;
  if (!isCount(s.ttlMs) || !isCount(s.lockDelayNs)) return null;
  if (s.behavior !== "release" && s.behavior !== "delete") return null;
  return { id: s.id, name: s.name, node: s.node, ttl: s.ttl, ttlMs: s.ttlMs, lockDelayNs: s.lockDelayNs, behavior: s.behavior };
}

/** The command in `data`, or a message saying why it is not one (never throws: see StateMachine.apply). */
export function decodeLeaseCommand(data: Uint8Array): LeaseCommand | string {
  let raw: unknown;
  try {
    raw = JSON.parse(decoder.decode(data));
  } catch (e) {
    return `not a JSON lease command: ${(e as Error).message}`;
  }
  if (!raw || typeof raw !== "object") return "lease command is not an object";
  const c = raw as Record<string, unknown>;
  switch (c.op) {
    case "session-create": {
      const session = parseSession(c.session);
      return session ? { op: "session-create", session } : "malformed session-create";
    }
    case "session-destroy":
      if (!isStr(c.id) || (c.reason !== "destroy" && c.reason !== "expired" && c.reason !== "split-brain")) return "malformed session-destroy";
      return { op: "session-destroy", id: c.id, reason: c.reason };
    case "kv-set":
      if (!isStr(c.key) || !(c.value === null || isStr(c.value)) || !isCount(c.flags)) return "malformed kv-set";
      if (c.lock !== "none" && c.lock !== "acquire" && c.lock !== "release") return "malformed kv-set lock mode";
      if (!(c.session === null || isStr(c.session))) return "malformed kv-set session";
      return { op: "kv-set", key: c.key, value: c.value, flags: c.flags, lock: c.lock, session: c.session };
    case "kv-delete":
      return isStr(c.key) ? { op: "kv-delete", key: c.key } : "malformed kv-delete";
    case "announce":
      return isStr(c.node) && isStr(c.forwardAddr) ? { op: "announce", node: c.node, forwardAddr: c.forwardAddr } : "malformed announce";
    default:
      return `unknown lease command ${JSON.stringify(c.op)}`;
  }
}
