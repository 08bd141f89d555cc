// The replicated state of the lease service: Consul-style sessions and KV entries, with Consul's
// semantics for the subset LiteFS uses (see docs/raft-lease.md):
//   - acquire: same session -> success, LockIndex unchanged, value replaced; another holder ->
//     false; a free key -> LockIndex + 1. Release only by the holder. A plain PUT keeps the holder.
//   - invalidation (destroy or expiry) is one entry: the session's keys are deleted (behavior
//     `delete`, the only one LiteFS uses), and lock-delay then blocks re-acquiring them for
//     min(LockDelay, 60 s).
//   - the state stays within a fixed budget (limits.ts): an entry over it is refused, not applied.
// Indexes are Raft log indexes (Consul's CreateIndex/ModifyIndex are its Raft indexes too).
//
// Lock-delay deadlines are NOT replicated state: like Consul, every replica records them at apply
// time on its own monotonic clock, and the leader checks them before proposing an acquire.

import type { StateMachine } from "../raft/runner.js";
import type { Entry } from "../raft/types.js";
import { decodeLeaseCommand, type InvalidationReason, type LeaseCommand, type SessionSpec } from "./commands.js";
import { MAX_ANNOUNCED, MAX_KV_KEYS, MAX_KV_TOTAL_BYTES, MAX_LOCK_DELAY_MS, MAX_SESSIONS } from "./limits.js";
import { base64Bytes } from "./rules.js";

export interface SessionRecord extends SessionSpec {
  readonly createIndex: number;
  readonly modifyIndex: number;
}

export interface KvRecord {
  readonly key: string;
  /** Base64, or null for an empty value. */
  readonly value: string | null;
  readonly flags: number;
  readonly session: string | null;
  readonly lockIndex: number;
  readonly createIndex: number;
  readonly modifyIndex: number;
}

export interface LeaseResult {
  readonly index: number;
  /** kv-set: Consul's true/false answer; others: whether the command took effect. */
  readonly ok: boolean;
  /** Set when the command was refused for a reason Consul reports as an error (e.g. invalid session). */
  readonly error?: string;
  /** Why it was refused at apply: a malformed or disallowed command, or the state budget (limits.ts). */
  readonly refusal?: "invalid" | "budget";
}

export type LeaseChange =
  | { readonly type: "session-created"; readonly session: SessionRecord }
  | {
      readonly type: "session-invalidated";
      readonly id: string;
      readonly reason: InvalidationReason;
      readonly keys: readonly string[];
    }
  | { readonly type: "kv-changed"; readonly key: string }
  | { readonly type: "restored" };

interface SnapshotData {
  readonly v: 1;
  readonly sessions: SessionRecord[];
  readonly kv: KvRecord[];
  readonly kvIndex: number;
  readonly sessionIndex: number;
  readonly forward: [string, string][];
}

const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });

export interface LeaseStateMachineOptions {
  /** Monotonic ms, for lock-delay deadlines. */
  readonly now: () => number;
  /** Told after every applied change (the service keeps its leader-side timers with it). */
  readonly onChange?: (change: LeaseChange) => void;
}

export class LeaseStateMachine implements StateMachine<LeaseResult> {
  private sessions = new Map<string, SessionRecord>();
  private kv = new Map<string, KvRecord>();
  private forward = new Map<string, string>();
  private kvIndex = 0;
  private sessionIndex = 0;
  private readonly lockDelays = new Map<string, number>();
  private readonly now: () => number;
  private readonly notify: (change: LeaseChange) => void;

  constructor(options: LeaseStateMachineOptions) {
    this.now = options.now;
    this.notify = options.onChange ?? (() => {});
  }

  // ------------------------------------------------------------------ reads

  session(id: string): SessionRecord | null {
    return this.sessions.get(id) ?? null;
  }
  allSessions(): SessionRecord[] {
    return [...this.sessions.values()];
  }
  get(key: string): KvRecord | null {
    return this.kv.get(key) ?? null;
  }
  /** Consul's X-Consul-Index for KV reads: the last index that changed the KV table (at least 1). */
  get kvTableIndex(): number {
    return Math.max(1, this.kvIndex);
  }
  get sessionTableIndex(): number {
    return Math.max(1, this.sessionIndex);
  }
  /** Where the leader `node` accepts forwarded requests (its latest announcement). */
  forwardAddr(node: string): string | null {
    return this.forward.get(node) ?? null;
  }
  /** Monotonic ms until which `key` may not be acquired, or 0. */
  lockDelayUntil(key: string): number {
    const until = this.lockDelays.get(key) ?? 0;
    if (until !== 0 && until <= this.now()) this.lockDelays.delete(key);
    return until > this.now() ? until : 0;
  }

  // ------------------------------------------------------------------ StateMachine

  apply(entry: Entry): LeaseResult {
    const cmd = decodeLeaseCommand(entry.data);
    if (typeof cmd === "string") return { index: entry.index, ok: false, error: cmd, refusal: "invalid" };
    const overBudget = this.budgetProblem(cmd);
    if (overBudget !== null) return { index: entry.index, ok: false, error: overBudget, refusal: "budget" };
    return this.applyCommand(entry.index, cmd);
  }

  /**
   * Why applying `cmd` now would take the state over its budget (limits.ts), or null. The leader
   * asks before proposing; apply asks again, so a committed over-budget entry is refused the same
   * way on every replica and the snapshot stays under SNAPSHOT_MAX_BYTES.
   */
  budgetProblem(cmd: LeaseCommand): string | null {
    switch (cmd.op) {
      case "session-create":
        return this.sessions.size >= MAX_SESSIONS
          ? `the lease service holds ${MAX_SESSIONS} sessions, its limit; sessions end when destroyed or 2 x TTL after their last renew`
          : null;
      case "kv-set": {
        const existing = this.kv.get(cmd.key);
        if (!existing && this.kv.size >= MAX_KV_KEYS) return `the lease service holds ${MAX_KV_KEYS} keys, its limit`;
        const usage =
          this.kvUsage() -
          (existing ? kvEntryUsage(existing.key, existing.value) : 0) +
          kvEntryUsage(cmd.key, cmd.value);
        return usage > MAX_KV_TOTAL_BYTES
          ? `the write would take the lease KV store to ${usage} bytes, over its ${MAX_KV_TOTAL_BYTES}-byte limit`
          : null;
      }
      case "announce":
        return !this.forward.has(cmd.node) && this.forward.size >= MAX_ANNOUNCED
          ? `${MAX_ANNOUNCED} forwarding addresses are announced, the limit`
          : null;
      case "session-destroy":
        return null;
    }
  }

  private kvUsage(): number {
    let total = 0;
    for (const e of this.kv.values()) total += kvEntryUsage(e.key, e.value);
    return total;
  }

  snapshot(): Uint8Array {
    const byKey = <T>(m: Map<string, T>): T[] =>
      [...m.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, v]) => v);
    const data: SnapshotData = {
      v: 1,
      sessions: byKey(this.sessions),
      kv: byKey(this.kv),
      kvIndex: this.kvIndex,
      sessionIndex: this.sessionIndex,
      forward: [...this.forward.entries()].sort(([a], [b]) => (a < b ? -1 : 1)),
    };
    return encoder.encode(JSON.stringify(data));
  }

  restore(bytes: Uint8Array): void {
    const data = JSON.parse(decoder.decode(bytes)) as Partial<SnapshotData>;
    if (data.v !== 1 || !Array.isArray(data.sessions) || !Array.isArray(data.kv) || !Array.isArray(data.forward)) {
      throw new Error("lease snapshot is not a version-1 lease state (sessions, kv, forward)");
    }
    this.sessions = new Map(data.sessions.map((s) => [s.id, s]));
    this.kv = new Map(data.kv.map((e) => [e.key, e]));
    this.forward = new Map(data.forward);
    this.kvIndex = data.kvIndex ?? 0;
    this.sessionIndex = data.sessionIndex ?? 0;
    // Lock-delays of invalidations folded into the snapshot are lost, as in Consul after a restart.
    this.lockDelays.clear();
    this.notify({ type: "restored" });
  }

  // ------------------------------------------------------------------ commands

  private applyCommand(index: number, cmd: LeaseCommand): LeaseResult {
    switch (cmd.op) {
      case "session-create": {
        if (this.sessions.has(cmd.session.id))
          return { index, ok: false, error: `session ${cmd.session.id} already exists` };
        const record: SessionRecord = { ...cmd.session, createIndex: index, modifyIndex: index };
        this.sessions.set(record.id, record);
        this.sessionIndex = index;
        this.notify({ type: "session-created", session: record });
        return { index, ok: true };
      }
      case "session-destroy":
        if (cmd.onlyIfHolder !== undefined && this.sessions.get(cmd.id)?.holder?.member !== cmd.onlyIfHolder)
          return { index, ok: false };
        return { index, ok: this.invalidate(index, cmd.id, cmd.reason) };
      case "kv-set":
        return this.kvSet(index, cmd);
      case "announce":
        this.forward.set(cmd.node, cmd.forwardAddr);
        return { index, ok: true };
    }
  }

  private invalidate(index: number, id: string, reason: InvalidationReason): boolean {
    const session = this.sessions.get(id);
    if (!session) return false;
    this.sessions.delete(id);
    this.sessionIndex = index;
    const held = [...this.kv.values()].filter((e) => e.session === id);
    const delayMs = Math.min(session.lockDelayNs / 1e6, MAX_LOCK_DELAY_MS);
    for (const entry of held) {
      // Behavior "delete", the only one accepted (rules.ts): the dead holder's key goes.
      this.kv.delete(entry.key);
      if (delayMs > 0) this.lockDelays.set(entry.key, this.now() + delayMs);
    }
    if (held.length > 0) this.kvIndex = index;
    this.notify({ type: "session-invalidated", id, reason, keys: held.map((e) => e.key) });
    return true;
  }

  private kvSet(index: number, cmd: Extract<LeaseCommand, { op: "kv-set" }>): LeaseResult {
    const existing = this.kv.get(cmd.key) ?? null;
    const write = (record: KvRecord): LeaseResult => {
      this.kv.set(cmd.key, record);
      this.kvIndex = index;
      this.notify({ type: "kv-changed", key: cmd.key });
      return { index, ok: true };
    };
    const base = {
      key: cmd.key,
      value: cmd.value,
      flags: cmd.flags,
      modifyIndex: index,
      createIndex: existing?.createIndex ?? index,
    };
    switch (cmd.lock) {
      case "none":
        // Consul: a plain PUT keeps the lock holder and its LockIndex.
        return write({ ...base, session: existing?.session ?? null, lockIndex: existing?.lockIndex ?? 0 });
      case "acquire": {
        const sid = cmd.session ?? "";
        const session = this.sessions.get(sid);
        if (!session) return { index, ok: false, error: `invalid session "${sid}"` };
        if (existing?.session && existing.session !== sid) return { index, ok: false };
        // The acquirer's member now uses the session (after a handoff: another member than its creator).
        if (cmd.holder) this.sessions.set(sid, { ...session, holder: cmd.holder });
        return write({
          ...base,
          session: sid,
          lockIndex: existing?.session === sid ? existing.lockIndex : (existing?.lockIndex ?? 0) + 1,
        });
      }
      case "release": {
        if (!existing || existing.session === null || existing.session !== cmd.session) return { index, ok: false };
        return write({ ...base, session: null, lockIndex: existing.lockIndex });
      }
    }
  }
}

/** What one KV entry counts against MAX_KV_TOTAL_BYTES: key length plus raw value bytes. */
function kvEntryUsage(key: string, valueBase64: string | null): number {
  return key.length + base64Bytes(valueBase64);
}
