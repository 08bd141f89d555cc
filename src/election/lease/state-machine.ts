// The replicated state of the lease service: Consul-style sessions and KV entries, with Consul's
// semantics for the subset LiteFS uses (see docs/raft-lease.md):
//   - acquire: same session -> success, LockIndex unchanged, value replaced; another holder ->
//     false; a free key -> LockIndex + 1. Release only by the holder. A plain PUT keeps the holder.
//   - invalidation (destroy or expiry) is one entry: the session's keys are deleted (`delete`) or
//     unlocked (`release`), and lock-delay then blocks re-acquiring them for min(LockDelay, 60 s).
// Indexes are Raft log indexes (Consul's CreateIndex/ModifyIndex are its Raft indexes too).
//
// Lock-delay deadlines are NOT replicated state: like Consul, every replica records them at apply
// time on its own monotonic clock, and the leader checks them before proposing an acquire.

import type { StateMachine } from "../raft/runner.js";
import type { Entry } from "../raft/types.js";
import { decodeLeaseCommand, type InvalidationReason, type LeaseCommand, type SessionSpec } from "./commands.js";

/** Consul caps lock-delay at 60 s. */
export const MAX_LOCK_DELAY_MS = 60_000;

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
}

export type LeaseChange =
  | { readonly type: "session-created"; readonly session: SessionRecord }
  | { readonly type: "session-invalidated"; readonly id: string; readonly reason: InvalidationReason; readonly keys: readonly string[] }
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
    if (typeof cmd === "string") return { index: entry.index, ok: false, error: cmd };
    return this.applyCommand(entry.index, cmd);
  }

  snapshot(): Uint8Array {
    const byKey = <T>(m: Map<string, T>): T[] => [...m.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, v]) => v);
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
        if (this.sessions.has(cmd.session.id)) return { index, ok: false, error: `session ${cmd.session.id} already exists` };
        const record: SessionRecord = { ...cmd.session, createIndex: index, modifyIndex: index };
        this.sessions.set(record.id, record);
        this.sessionIndex = index;
        this.notify({ type: "session-created", session: record });
        return { index, ok: true };
      }
      case "session-destroy":
        return { index, ok: this.invalidate(index, cmd.id, cmd.reason) };
      case "kv-set":
        return this.kvSet(index, cmd);
      case "kv-delete": {
        const existed = this.kv.delete(cmd.key);
        if (existed) {
          this.kvIndex = index;
          this.notify({ type: "kv-changed", key: cmd.key });
        }
        return { index, ok: true };
      }
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
      if (session.behavior === "delete") this.kv.delete(entry.key);
      else this.kv.set(entry.key, { ...entry, session: null, modifyIndex: index });
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
    const base = { key: cmd.key, value: cmd.value, flags: cmd.flags, modifyIndex: index, createIndex: existing?.createIndex ?? index };
    switch (cmd.lock) {
      case "none":
        // Consul: a plain PUT keeps the lock holder and its LockIndex.
        return write({ ...base, session: existing?.session ?? null, lockIndex: existing?.lockIndex ?? 0 });
      case "acquire": {
        const sid = cmd.session ?? "";
        if (!this.sessions.has(sid)) return { index, ok: false, error: `invalid session "${sid}"` };
        if (existing?.session === sid) return write({ ...base, session: sid, lockIndex: existing.lockIndex });
        if (existing?.session) return { index, ok: false };
        return write({ ...base, session: sid, lockIndex: (existing?.lockIndex ?? 0) + 1 });
      }
      case "release": {
        if (!existing || existing.session === null || existing.session !== cmd.session) return { index, ok: false };
        return write({ ...base, session: null, lockIndex: existing.lockIndex });
      }
    }
  }
}
