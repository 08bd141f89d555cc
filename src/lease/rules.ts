// What the lease service accepts: exactly the requests LiteFS's Consul leaser sends (R1-R8 in
// docs/raft-lease.md), nothing that could undo the lock (deleting the lease key, overwriting it
// without the lock, a session that never expires), and nothing over the budget (limits.ts).
//
// One set of functions for every layer: the HTTP front end refuses up front, the Raft leader
// checks again before proposing (requests forwarded by followers never passed through this
// node's HTTP front end), and the state machine applies only what passes `sessionSpecProblem` /
// `kvSetProblem`, so a request is never proposed to fail at apply.

import { goDurationToMs } from "../config/durations.js";
import {
  MAX_KV_KEY_CHARS,
  MAX_KV_VALUE_BASE64_CHARS,
  MAX_KV_VALUE_BYTES,
  MAX_MEMBER_GRACE_MS,
  MAX_MEMBER_ID_CHARS,
  MAX_SESSION_TEXT_CHARS,
  MAX_TTL_MS,
  MAX_TTL_TEXT_CHARS,
  SESSION_ID_CHARS,
} from "./limits.js";
import type { LeaseRequest } from "./types.js";

/** An HTTP status and message for a refused request. */
export interface Refusal {
  readonly status: 400 | 403 | 405 | 413;
  readonly message: string;
}

/** What this node's lease service serves: LiteFS's key and the minimum session TTL. */
export interface LeasePolicy {
  /** The Consul key LiteFS locks (CONSUL_LEASE.key); `<key>/clusterid` is served too. */
  readonly leaseKey: string;
  readonly minTtlMs: number;
  /**
   * litefs-node's own keys: the member directory (node-directory.ts), one key per Raft member,
   * read and written with plain GET/PUT.
   */
  readonly directoryKeys: readonly string[];
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

const seconds = (ms: number): string => `${ms / 1000}s`;
/** A client-supplied value for an error message, cut short (ids arrive in URLs of any length). */
const shown = (value: unknown): string => JSON.stringify(String(value).slice(0, 64));

/** A session as a client or a log entry describes it, before it is known to be valid. */
export interface SessionShape {
  readonly name: string;
  readonly node: string;
  readonly ttl: string;
  readonly ttlMs: number;
  readonly lockDelayNs: number;
  readonly behavior: string;
  readonly holder?: unknown;
}

/**
 * Why `s` is not a session LiteFS would create, or null. `minTtlMs` is the node's floor at the
 * front door and ABSOLUTE_MIN_TTL_MS at apply (every replica must decide the same).
 */
export function sessionSpecProblem(s: SessionShape, minTtlMs: number): string | null {
  if (typeof s.ttl !== "string" || s.ttl === "")
    return "Session TTL is required (a session without one would hold the lease for good)";
  if (s.ttl.length > MAX_TTL_TEXT_CHARS) return `Session TTL is longer than ${MAX_TTL_TEXT_CHARS} characters`;
  const ms = goDurationToMs(s.ttl);
  if (ms === null) return `Session TTL '${s.ttl}' invalid: not a Go duration such as "10s"`;
  if (!Number.isInteger(ms)) return `Session TTL '${s.ttl}' invalid: must be a whole number of milliseconds`;
  if (s.ttlMs !== ms) return `Session TTL '${s.ttl}' does not match its ${String(s.ttlMs)} ms`;
  if (ms < minTtlMs || ms > MAX_TTL_MS)
    return `Invalid Session TTL '${s.ttl}', must be between [${seconds(minTtlMs)}=24h0m0s]`;
  if (!Number.isSafeInteger(s.lockDelayNs) || s.lockDelayNs < 0) {
    return `Invalid Session LockDelay ${String(s.lockDelayNs)}: must be a whole number of nanoseconds from 0 to ${Number.MAX_SAFE_INTEGER}`;
  }
  if (s.behavior !== "delete") {
    return `Invalid Behavior setting ${shown(s.behavior)}: this lease service accepts only "delete" (what LiteFS sends), so a dead holder's key is removed`;
  }
  for (const [name, value] of [
    ["Name", s.name],
    ["Node", s.node],
  ] as const) {
    if (typeof value !== "string" || value.length > MAX_SESSION_TEXT_CHARS)
      return `Session ${name} must be a string of at most ${MAX_SESSION_TEXT_CHARS} characters`;
  }
  return s.holder === undefined ? null : holderProblem(s.holder);
}

/**
 * Why `holder` (the member using a session and its write-gate grace, commands.ts SessionHolder)
 * cannot be stored, or null. Set by lease services, never by LiteFS.
 */
export function holderProblem(holder: unknown): string | null {
  const h = holder as { member?: unknown; graceMs?: unknown } | null;
  if (!h || typeof h !== "object" || typeof h.member !== "string" || typeof h.graceMs !== "number")
    return "session holder must be {member, graceMs}";
  if (h.member === "" || h.member.length > MAX_MEMBER_ID_CHARS)
    return `session holder member must be 1 to ${MAX_MEMBER_ID_CHARS} characters`;
  if (!Number.isInteger(h.graceMs) || h.graceMs < 1 || h.graceMs > MAX_MEMBER_GRACE_MS)
    return `session holder graceMs must be a whole number of ms from 1 to ${MAX_MEMBER_GRACE_MS}`;
  return null;
}

/** Why a session id cannot be stored (apply-time check; ids are UUIDs the leader makes). */
export function sessionIdProblem(id: string): string | null {
  return id === "" || id.length > SESSION_ID_CHARS ? `session id must be 1 to ${SESSION_ID_CHARS} characters` : null;
}

/** Why a KV write cannot be stored whatever the state (apply-time check of key and value size). */
export function kvSetProblem(key: string, valueBase64: string | null): string | null {
  if (key === "" || key.length > MAX_KV_KEY_CHARS) return `key must be 1 to ${MAX_KV_KEY_CHARS} characters`;
  if (valueBase64 !== null && (valueBase64.length > MAX_KV_VALUE_BASE64_CHARS || !BASE64.test(valueBase64))) {
    return `value must be base64 of at most ${MAX_KV_VALUE_BYTES} bytes`;
  }
  return null;
}

/** Raw bytes of a base64 value (without decoding it). */
export function base64Bytes(valueBase64: string | null): number {
  if (valueBase64 === null) return 0;
  const padding = valueBase64.endsWith("==") ? 2 : valueBase64.endsWith("=") ? 1 : 0;
  return Math.floor((valueBase64.length * 3) / 4) - padding;
}

const refuse = (status: Refusal["status"], message: string): Refusal => ({ status, message });

/** Why this node must not run `request` for LiteFS, or null when it is one LiteFS sends. */
export function leaseRequestRefusal(request: LeaseRequest, policy: LeasePolicy): Refusal | null {
  const { leaseKey } = policy;
  const clusterIdKey = `${leaseKey}/clusterid`;
  switch (request.op) {
    case "kv-get":
    case "kv-put": {
      const plainKey = request.key === clusterIdKey || policy.directoryKeys.includes(request.key);
      if (request.key !== leaseKey && !plainKey) {
        return refuse(
          403,
          `Permission denied: this lease service serves only the keys "${leaseKey}", "${clusterIdKey}" and its member directory`,
        );
      }
      if (request.op === "kv-get") return null;
      if (base64Bytes(request.value) > MAX_KV_VALUE_BYTES)
        return refuse(413, `Value exceeds ${MAX_KV_VALUE_BYTES} byte limit`);
      if (plainKey) {
        return request.lock === "none"
          ? null
          : refuse(403, `Permission denied: "${request.key}" is written only with a plain PUT (no acquire or release)`);
      }
      if (request.lock === "none") {
        return refuse(
          403,
          `Permission denied: "${leaseKey}" is written only with ?acquire= or ?release= (a plain PUT would rewrite the primary without holding the lock)`,
        );
      }
      if (typeof request.session !== "string" || !UUID.test(request.session))
        return refuse(400, `Invalid session ${shown(request.session)}: must be a session id (UUID)`);
      if (request.holder !== undefined) {
        const problem = holderProblem(request.holder);
        if (problem !== null) return refuse(400, problem);
      }
      return null;
    }
    case "session-create": {
      const problem = sessionSpecProblem(request, policy.minTtlMs);
      return problem === null ? null : refuse(400, problem);
    }
    case "session-renew":
    case "session-destroy":
      return typeof request.id === "string" && UUID.test(request.id)
        ? null
        : refuse(400, `Invalid session id ${shown(request.id)}: must be a UUID`);
    default:
      return refuse(405, `operation ${shown((request as { op?: unknown }).op)} is not served`);
  }
}
