// The replicated commands of the lease state machine and their byte encoding (JSON, like the
// model KV machine). Everything non-deterministic (session ids, the proposer's clock) is decided
// by the proposer and carried in the command, so every replica applies the same thing.

import { ABSOLUTE_MIN_TTL_MS, MAX_FORWARD_ADDR_CHARS, MAX_MEMBER_ID_CHARS } from "./limits.js";
import { holderProblem, kvSetProblem, sessionIdProblem, sessionSpecProblem } from "./rules.js";

/** LiteFS creates `delete` sessions only: a dead holder's key is removed (rules.ts refuses others). */
type SessionBehavior = "delete";

export interface SessionSpec {
  readonly id: string;
  readonly name: string;
  readonly node: string;
  /** As the client sent it ("10s"). */
  readonly ttl: string;
  /** Parsed TTL in ms (a whole number; rules.ts checks it matches `ttl`). */
  readonly ttlMs: number;
  /** Integer nanoseconds, as Consul reports it. */
  readonly lockDelayNs: number;
  readonly behavior: SessionBehavior;
  /**
   * The holder's Raft member and its write-gate grace (ms), set by the lease service whose
   * LiteFS created or last acquired with the session: the leader invalidates the session when that
   * member has been silent for longer than graceMs + a margin (member-silence.ts). Absent in
   * entries written before this rule: such sessions end by TTL only.
   */
  readonly holder?: SessionHolder;
}

/** Which member's LiteFS uses a session, and that member's write-gate grace. */
export interface SessionHolder {
  readonly member: string;
  readonly graceMs: number;
}

type KvLockMode = "none" | "acquire" | "release";

/** A KV write, as the HTTP layer parsed it (request kv-put) and as it is replicated (command kv-set). */
export interface KvWrite {
  readonly key: string;
  /** Base64 of the raw body; null for an empty body (Consul reports `"Value": null`). */
  readonly value: string | null;
  readonly flags: number;
  readonly lock: KvLockMode;
  readonly session: string | null;
  /** acquire: the member acquiring, stamped by its lease service (LiteFS never sends it); a handoff moves a session. */
  readonly holder?: SessionHolder;
}

export type InvalidationReason = "destroy" | "expired" | "split-brain";

export type LeaseCommand =
  | { readonly op: "session-create"; readonly session: SessionSpec }
  | {
      readonly op: "session-destroy";
      readonly id: string;
      readonly reason: InvalidationReason;
      /**
       * Member-silence ends (member-silence.ts): applied only while the session's holder is still
       * this member. The leader judges a member silent when it proposes; a handoff committed
       * before the destroy may have moved the session to a member that is not silent at all.
       */
      readonly onlyIfHolder?: string;
    }
  | ({ readonly op: "kv-set" } & KvWrite)
  /** A new leader tells followers where to forward client requests (see forward.ts). */
  | { readonly op: "announce"; readonly node: string; readonly forwardAddr: string };

const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });

export function encodeLeaseCommand(cmd: LeaseCommand): Uint8Array {
  return encoder.encode(JSON.stringify(cmd));
}

const isStr = (v: unknown): v is string => typeof v === "string";
const isCount = (v: unknown): v is number => typeof v === "number" && Number.isSafeInteger(v) && v >= 0;

// The same rules as the front door (rules.ts), so an entry that was committed although it breaks
// them (a forged or older proposal) is refused identically on every replica, never half-applied.
function parseSession(raw: unknown): SessionSpec | string {
  if (!raw || typeof raw !== "object") return "malformed session-create";
  const s = raw as Record<string, unknown>;
  if (!isStr(s.id) || !isStr(s.name) || !isStr(s.node) || !isStr(s.ttl) || !isStr(s.behavior))
    return "malformed session-create";
  if (typeof s.ttlMs !== "number" || typeof s.lockDelayNs !== "number") return "malformed session-create";
  const spec = {
    id: s.id,
    name: s.name,
    node: s.node,
    ttl: s.ttl,
    ttlMs: s.ttlMs,
    lockDelayNs: s.lockDelayNs,
    behavior: s.behavior as SessionBehavior,
    ...(s.holder === undefined ? {} : { holder: s.holder as SessionHolder }),
  };
  const problem = sessionIdProblem(spec.id) ?? sessionSpecProblem(spec, ABSOLUTE_MIN_TTL_MS);
  return problem === null ? spec : `session-create refused: ${problem}`;
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
      return typeof session === "string" ? session : { op: "session-create", session };
    }
    case "session-destroy":
      if (!isStr(c.id) || (c.reason !== "destroy" && c.reason !== "expired" && c.reason !== "split-brain"))
        return "malformed session-destroy";
      if (c.onlyIfHolder !== undefined && (!isStr(c.onlyIfHolder) || c.onlyIfHolder.length > MAX_MEMBER_ID_CHARS))
        return "malformed session-destroy holder condition";
      return {
        op: "session-destroy",
        id: c.id,
        reason: c.reason,
        ...(c.onlyIfHolder === undefined ? {} : { onlyIfHolder: c.onlyIfHolder }),
      };
    case "kv-set":
      if (!isStr(c.key) || !(c.value === null || isStr(c.value)) || !isCount(c.flags)) return "malformed kv-set";
      if (c.lock !== "none" && c.lock !== "acquire" && c.lock !== "release") return "malformed kv-set lock mode";
      if (!(c.session === null || isStr(c.session))) return "malformed kv-set session";
      {
        const problem = kvSetProblem(c.key, c.value) ?? (c.holder === undefined ? null : holderProblem(c.holder));
        if (problem !== null) return `kv-set refused: ${problem}`;
      }
      return {
        op: "kv-set",
        key: c.key,
        value: c.value,
        flags: c.flags,
        lock: c.lock,
        session: c.session,
        ...(c.holder === undefined ? {} : { holder: c.holder as SessionHolder }),
      };
    case "announce":
      if (!isStr(c.node) || !isStr(c.forwardAddr)) return "malformed announce";
      if (c.node.length > MAX_MEMBER_ID_CHARS || c.forwardAddr.length > MAX_FORWARD_ADDR_CHARS)
        return "announce refused: member id or address too long";
      return { op: "announce", node: c.node, forwardAddr: c.forwardAddr };
    default:
      return `unknown lease command ${JSON.stringify(c.op)}`;
  }
}
