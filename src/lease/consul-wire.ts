// Consul's wire format for the subset LiteFS uses, as hashicorp/consul/api v1.11.0 sends and
// parses it: request parsing (paths, query flags, the session-create body) and the exact JSON
// of KV entries and session entries. Pure functions, no I/O.

import { goDurationToMs } from "../config/durations.js";
import { leaseRequestRefusal, sessionSpecProblem, type LeasePolicy, type Refusal } from "./rules.js";
import type { KvRecord, SessionRecord } from "./state-machine.js";
import type { LeaseRequest } from "./types.js";

/** Consul's default lock-delay when a session is created without one. */
const DEFAULT_LOCK_DELAY_NS = 15e9;
/** Consul reads a numeric LockDelay below this as seconds, otherwise as nanoseconds. */
const LOCK_DELAY_SECONDS_THRESHOLD = 1000;

export type ParsedRequest =
  | { readonly ok: true; readonly request: LeaseRequest | { readonly op: "catalog-register" } }
  | ({ readonly ok: false } & (Refusal | { readonly status: 404; readonly message: string }));

const bad = (message: string): ParsedRequest => ({ ok: false, status: 400, message });

/**
 * Maps one HTTP request to an operation, refusing whatever LiteFS never sends (rules.ts).
 * `body` is the raw request body.
 */
export function parseConsulRequest(
  method: string,
  rawUrl: string,
  body: Buffer,
  nodeName: string,
  policy: LeasePolicy,
): ParsedRequest {
  const parsed = parseShape(method, rawUrl, body, nodeName, policy);
  if (!parsed.ok || parsed.request.op === "catalog-register") return parsed;
  const refusal = leaseRequestRefusal(parsed.request, policy);
  return refusal === null ? parsed : { ok: false, ...refusal };
}

function parseShape(
  method: string,
  rawUrl: string,
  body: Buffer,
  nodeName: string,
  policy: LeasePolicy,
): ParsedRequest {
  const url = new URL(rawUrl, "http://127.0.0.1");
  const path = url.pathname;
  const q = url.searchParams;
  if (path.startsWith("/v1/kv/")) {
    let key: string;
    try {
      key = decodeURIComponent(path.slice("/v1/kv/".length));
    } catch {
      return bad(`invalid key encoding in ${path}`);
    }
    if (key === "") return bad("Missing key name");
    if (q.has("recurse") || q.has("keys") || q.has("cas"))
      return bad("recurse, keys and cas are not supported by this lease service");
    if (method === "GET") return { ok: true, request: { op: "kv-get", key } };
    if (method === "DELETE")
      return {
        ok: false,
        status: 405,
        message: `DELETE is refused: LiteFS never deletes a key (it releases the lease), and deleting ${JSON.stringify(policy.leaseKey)} would let a second primary in`,
      };
    if (method !== "PUT") return { ok: false, status: 405, message: `method ${method} not allowed on ${path}` };
    const flagsText = q.get("flags");
    const flags = flagsText === null ? 0 : Number(flagsText);
    if (!Number.isSafeInteger(flags) || flags < 0) return bad(`invalid flags ${JSON.stringify(flagsText)}`);
    const acquire = q.get("acquire");
    const release = q.get("release");
    if (acquire !== null && release !== null) return bad("Conflicting flags: acquire=&release=");
    // Consul stores the raw body whatever its Content-Type; an empty body is a null Value.
    const value = body.length === 0 ? null : body.toString("base64");
    const lock = acquire !== null ? "acquire" : release !== null ? "release" : "none";
    return { ok: true, request: { op: "kv-put", key, value, flags, lock, session: acquire ?? release } };
  }
  if (path === "/v1/catalog/register") {
    return method === "PUT"
      ? { ok: true, request: { op: "catalog-register" } }
      : { ok: false, status: 405, message: `method ${method} not allowed on ${path}` };
  }
  if (path.startsWith("/v1/session/")) {
    if (method !== "PUT") return { ok: false, status: 405, message: `method ${method} not allowed on ${path}` };
    if (path === "/v1/session/create") return parseSessionCreate(body, nodeName, policy.minTtlMs);
    for (const op of ["renew", "destroy"] as const) {
      const prefix = `/v1/session/${op}/`;
      if (path.startsWith(prefix)) {
        const id = path.slice(prefix.length);
        if (id === "" || id.includes("/")) return bad(`Missing session`);
        return {
          ok: true,
          request: op === "renew" ? { op: "session-renew", id } : { op: "session-destroy", id, reason: "destroy" },
        };
      }
    }
  }
  return {
    ok: false,
    status: 404,
    message: `no such endpoint: ${method} ${path} (this lease service serves only the Consul subset LiteFS uses)`,
  };
}

function field(obj: Record<string, unknown>, name: string): unknown {
  // Go's encoding/json matches field names case-insensitively; so does Consul.
  const lower = name.toLowerCase();
  for (const [k, v] of Object.entries(obj)) if (k.toLowerCase() === lower) return v;
  return undefined;
}

function parseSessionCreate(body: Buffer, nodeName: string, minTtlMs: number): ParsedRequest {
  let obj: Record<string, unknown> = {};
  if (body.length > 0) {
    let raw: unknown;
    try {
      raw = JSON.parse(body.toString("utf8"));
    } catch (e) {
      return bad(`Request decode failed: ${(e as Error).message}`);
    }
    if (raw === null || typeof raw !== "object" || Array.isArray(raw))
      return bad("Request decode failed: body is not a JSON object");
    obj = raw as Record<string, unknown>;
  }
  const name = field(obj, "Name") ?? "";
  const node = field(obj, "Node") ?? "";
  const ttl = field(obj, "TTL") ?? "";
  const behavior = field(obj, "Behavior") ?? "";
  if (typeof name !== "string" || typeof node !== "string" || typeof ttl !== "string" || typeof behavior !== "string") {
    return bad("Request decode failed: Name, Node, TTL and Behavior must be strings");
  }
  const lockDelayNs = parseLockDelay(field(obj, "LockDelay"));
  if (typeof lockDelayNs === "string") return bad(lockDelayNs);
  // Consul's default Behavior is "release"; LiteFS always sends "delete", the only one accepted.
  const shape = {
    name,
    node: node === "" ? nodeName : node,
    ttl,
    ttlMs: goDurationToMs(ttl) ?? -1,
    lockDelayNs,
    behavior: behavior === "" ? "release" : behavior,
  };
  const problem = sessionSpecProblem(shape, minTtlMs);
  if (problem !== null) return bad(problem);
  return { ok: true, request: { op: "session-create", ...shape, behavior: "delete" } };
}

/** LockDelay as Consul reads it: a Go duration string, or a number (seconds below 1000, else ns). */
function parseLockDelay(value: unknown): number | string {
  if (value === undefined || value === null) return DEFAULT_LOCK_DELAY_NS;
  if (typeof value === "number") {
    if (!Number.isFinite(value) || value < 0) return `Request decode failed: invalid LockDelay ${value}`;
    return Math.round(value < LOCK_DELAY_SECONDS_THRESHOLD ? value * 1e9 : value);
  }
  if (typeof value === "string") {
    const ms = goDurationToMs(value);
    if (ms === null) return `Request decode failed: invalid LockDelay '${value}'`;
    return Math.round(ms * 1e6);
  }
  return "Request decode failed: LockDelay must be a duration string or a number";
}

/** One KV entry as Consul's DirEntry JSON (field order as Consul writes it; Session omitted when empty). */
export function kvEntryJson(e: KvRecord): Record<string, unknown> {
  const out: Record<string, unknown> = { LockIndex: e.lockIndex, Key: e.key, Flags: e.flags, Value: e.value };
  if (e.session !== null) out.Session = e.session;
  out.CreateIndex = e.createIndex;
  out.ModifyIndex = e.modifyIndex;
  return out;
}

/** One session as Consul's Session JSON: LockDelay in integer nanoseconds, TTL as the string given. */
export function sessionJson(s: SessionRecord): Record<string, unknown> {
  return {
    ID: s.id,
    Name: s.name,
    Node: s.node,
    LockDelay: s.lockDelayNs,
    Behavior: s.behavior,
    TTL: s.ttl,
    NodeChecks: null,
    ServiceChecks: null,
    CreateIndex: s.createIndex,
    ModifyIndex: s.modifyIndex,
  };
}
