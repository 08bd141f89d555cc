// The bounded replicated lease state (issue 11 item 2): the budget's arithmetic against the Raft
// codec, a state filled to the budget with worst-case strings staying under that bound, over-budget
// entries refused at apply deterministically (never thrown, the same on every replica), and the
// leader refusing before it proposes with a clear HTTP error. Also the second check of requests
// forwarded by followers (they never passed this node's HTTP front end).
import { afterEach, describe, expect, it } from "vitest";
import { encodeLeaseCommand, type LeaseCommand } from "../../src/lease/commands.js";
import {
  ANNOUNCE_JSON_MAX_BYTES,
  KV_JSON_MAX_BYTES,
  MAX_ANNOUNCED,
  MAX_FORWARD_ADDR_CHARS,
  MAX_KV_KEY_CHARS,
  MAX_KV_KEYS,
  MAX_KV_TOTAL_BYTES,
  MAX_KV_VALUE_BYTES,
  MAX_LEASE_REQUEST_BYTES,
  MAX_MEMBER_GRACE_MS,
  MAX_MEMBER_ID_CHARS,
  MAX_SESSION_TEXT_CHARS,
  MAX_SESSIONS,
  SESSION_ID_CHARS,
  SESSION_JSON_MAX_BYTES,
  SNAPSHOT_MAX_BYTES,
} from "../../src/lease/limits.js";
import { LeaseStateMachine, type LeaseResult } from "../../src/lease/state-machine.js";
import { DEFAULT_CODEC_LIMITS, decodeMessage, encodeMessage } from "../../src/raft/codec.js";
import type { Message } from "../../src/raft/types.js";
import { startInProcessLease, type InProcessLease } from "../support/lease/in-process.js";

const K = "litefs/primary";
// Worst cases for JSON: a control character or a lone surrogate becomes \uXXXX (6 bytes).
const worst = (n: number, seed: number) =>
  Array.from({ length: n }, (_, i) =>
    i % 2 === 0 ? "\u0001" : String.fromCharCode(0xd800 + ((i + seed) % 1024)),
  ).join("");
// The longest TTL text that is still a valid TTL (leading zeros are a valid Go duration).
const LONG_TTL = "0".repeat(29) + "10s";

function machine() {
  const sm = new LeaseStateMachine({ now: () => 0 });
  // Huge Raft indexes: the longest numbers the snapshot can hold.
  let index = Number.MAX_SAFE_INTEGER - 10_000;
  const apply = (cmd: LeaseCommand | string): LeaseResult =>
    sm.apply({
      term: 1,
      index: ++index,
      type: "normal",
      data: typeof cmd === "string" ? new TextEncoder().encode(cmd) : encodeLeaseCommand(cmd),
    });
  const session = (i: number) =>
    apply({
      op: "session-create",
      session: {
        id: (worst(SESSION_ID_CHARS - 6, i) + String(i).padStart(6, "0")).slice(-SESSION_ID_CHARS),
        name: worst(MAX_SESSION_TEXT_CHARS, i),
        node: worst(MAX_SESSION_TEXT_CHARS, i + 1),
        ttl: LONG_TTL,
        ttlMs: 10_000,
        lockDelayNs: Number.MAX_SAFE_INTEGER,
        behavior: "delete",
        holder: { member: worst(MAX_MEMBER_ID_CHARS, i + 2), graceMs: MAX_MEMBER_GRACE_MS },
      },
    });
  return { sm, apply, session };
}

/** Fills every part of the state to its budget with worst-case content. */
function fillToBudget() {
  const m = machine();
  for (let i = 0; i < MAX_SESSIONS; i++) expect(m.session(i).ok, `session ${i}`).toBe(true);
  const valueBytes = Math.floor(MAX_KV_TOTAL_BYTES / MAX_KV_KEYS) - MAX_KV_KEY_CHARS;
  for (let k = 0; k < MAX_KV_KEYS; k++) {
    const key = (worst(MAX_KV_KEY_CHARS - 2, k) + String(k).padStart(2, "0")).slice(-MAX_KV_KEY_CHARS);
    const r = m.apply({
      op: "kv-set",
      key,
      value: Buffer.alloc(valueBytes, 0xff).toString("base64"),
      flags: Number.MAX_SAFE_INTEGER,
      lock: "none",
      session: null,
    });
    expect(r.ok, `key ${k}: ${r.error}`).toBe(true);
  }
  for (let n = 0; n < MAX_ANNOUNCED; n++) {
    expect(
      m.apply({
        op: "announce",
        node: worst(MAX_MEMBER_ID_CHARS - 2, n) + String(n).padStart(2, "0"),
        forwardAddr: worst(MAX_FORWARD_ADDR_CHARS, n),
      }).ok,
    ).toBe(true);
  }
  return m;
}

describe("lease state budget: the snapshot always fits the Raft codec", () => {
  it("by arithmetic: the bound from the budget is far below the codec's snapshot limit", () => {
    expect(SNAPSHOT_MAX_BYTES).toBeLessThan(DEFAULT_CODEC_LIMITS.maxSnapshotBytes / 16);
    // One entry of the largest command fits the codec's entry limit too.
    expect(MAX_LEASE_REQUEST_BYTES * 2).toBeLessThan(DEFAULT_CODEC_LIMITS.maxEntryBytes);
  });

  it("a state filled to the budget with worst-case strings stays under the bound, record by record, and encodes", () => {
    const m = fillToBudget();
    const snap = JSON.parse(new TextDecoder().decode(m.sm.snapshot())) as {
      sessions: unknown[];
      kv: unknown[];
      forward: unknown[];
    };
    expect(snap.sessions).toHaveLength(MAX_SESSIONS);
    expect(snap.kv).toHaveLength(MAX_KV_KEYS);
    expect(snap.forward).toHaveLength(MAX_ANNOUNCED);
    const bytes = (v: unknown) => Buffer.byteLength(JSON.stringify(v));
    for (const s of snap.sessions) expect(bytes(s)).toBeLessThanOrEqual(SESSION_JSON_MAX_BYTES);
    for (const e of snap.kv) expect(bytes(e)).toBeLessThanOrEqual(KV_JSON_MAX_BYTES);
    for (const f of snap.forward) expect(bytes(f)).toBeLessThanOrEqual(ANNOUNCE_JSON_MAX_BYTES);
    const size = m.sm.snapshot().length;
    expect(size).toBeLessThanOrEqual(SNAPSHOT_MAX_BYTES);
    // A full state really is close to the bound (the bound is not vacuous).
    expect(size).toBeGreaterThan(SNAPSHOT_MAX_BYTES / 2);
    // The codec takes it (it throws on anything over its limits), and decodes it back whole.
    const message: Message = {
      type: "snap",
      clusterId: "c",
      from: "a",
      to: "b",
      term: 1,
      logTerm: 1,
      index: 1,
      commit: 1,
      reject: false,
      rejectHint: 0,
      entries: [],
      snapshot: { meta: { index: 1, term: 1, voters: ["a", "b", "c"] }, data: m.sm.snapshot() },
      context: null,
    };
    expect(decodeMessage(encodeMessage(message)).snapshot?.data.length).toBe(size);
  });

  it("over-budget entries that were committed anyway are refused at apply, never thrown, identically on every replica", () => {
    const replicas = [fillToBudget(), fillToBudget()];
    const before = Buffer.from(replicas[0]!.sm.snapshot());
    const forged: (LeaseCommand | string)[] = [
      {
        op: "session-create",
        session: {
          id: "one-too-many",
          name: "litefs",
          node: "n",
          ttl: "10s",
          ttlMs: 10_000,
          lockDelayNs: 1e9,
          behavior: "delete",
        },
      },
      { op: "kv-set", key: "a-17th-key", value: null, flags: 0, lock: "none", session: null },
      {
        op: "kv-set",
        key: K,
        value: Buffer.alloc(512 * 1024).toString("base64"),
        flags: 0,
        lock: "none",
        session: null,
      },
      { op: "announce", node: "another-member", forwardAddr: "127.0.0.1:1" },
      "{not json",
      JSON.stringify({ op: "kv-delete", key: K }),
    ];
    const results = replicas.map((r) => forged.map((cmd) => r.apply(cmd)));
    for (const r of results[0]!) expect(r.ok).toBe(false);
    expect(results[0]!.map((r) => r.refusal)).toEqual(["budget", "budget", "invalid", "budget", "invalid", "invalid"]);
    expect(results[0]!.map((r) => r.error)).toEqual(results[1]!.map((r) => r.error));
    expect(Buffer.from(replicas[0]!.sm.snapshot()).equals(before)).toBe(true);
    expect(Buffer.from(replicas[1]!.sm.snapshot()).equals(before)).toBe(true);
  });

  it("the KV byte budget counts keys and raw value bytes across all entries", () => {
    const m = machine();
    const value = Buffer.alloc(MAX_KV_VALUE_BYTES).toString("base64");
    let stored = 0;
    for (let k = 0; ; k++) {
      const r = m.apply({ op: "kv-set", key: `k${k}`, value, flags: 0, lock: "none", session: null });
      if (!r.ok) {
        expect(r).toMatchObject({
          refusal: "budget",
          error: expect.stringContaining(`${MAX_KV_TOTAL_BYTES}-byte limit`),
        });
        break;
      }
      stored += `k${k}`.length + MAX_KV_VALUE_BYTES;
    }
    expect(stored).toBeLessThanOrEqual(MAX_KV_TOTAL_BYTES);
    expect(stored + 3 + MAX_KV_VALUE_BYTES).toBeGreaterThan(MAX_KV_TOTAL_BYTES);
  });
});

let lease: InProcessLease | undefined;
afterEach(async () => {
  await lease?.close();
  lease = undefined;
});

const LITEFS_SESSION = JSON.stringify({
  Behavior: "delete",
  LockDelay: "1000ms",
  Name: "litefs",
  NodeChecks: [],
  TTL: "10s",
});

describe("the leader refuses over-budget requests before proposing, with a clear HTTP error", () => {
  it("session create at the session budget: 429, nothing proposed", async () => {
    lease = await startInProcessLease();
    for (let i = 0; i < MAX_SESSIONS; i++) {
      void lease.raft.propose(
        encodeLeaseCommand({
          op: "session-create",
          session: {
            id: `s${i}`,
            name: "litefs",
            node: "n",
            ttl: "10s",
            ttlMs: 10_000,
            lockDelayNs: 1e9,
            behavior: "delete",
          },
        }),
      );
    }
    const proposed = lease.raft.index;
    const res = await fetch(`${lease.url}/v1/session/create`, {
      method: "PUT",
      body: LITEFS_SESSION,
      headers: { "X-Consul-Token": lease.token },
    });
    expect(res.status).toBe(429);
    expect(await res.text()).toMatch(new RegExp(`holds ${MAX_SESSIONS} sessions, its limit`));
    expect(lease.raft.index).toBe(proposed);
  });

  it("a KV write over the byte budget: 507, nothing proposed", async () => {
    lease = await startInProcessLease();
    const value = Buffer.alloc(MAX_KV_VALUE_BYTES).toString("base64");
    for (let k = 0; k < 7; k++)
      void lease.raft.propose(
        encodeLeaseCommand({ op: "kv-set", key: `old/${k}`, value, flags: 0, lock: "none", session: null }),
      );
    const proposed = lease.raft.index;
    const res = await fetch(`${lease.url}/v1/kv/${K}/clusterid`, {
      method: "PUT",
      body: "v".repeat(MAX_KV_VALUE_BYTES),
      headers: { "X-Consul-Token": lease.token },
    });
    expect(res.status).toBe(507);
    expect(await res.text()).toMatch(/over its \d+-byte limit/);
    expect(lease.raft.index).toBe(proposed);
  });

  it("requests forwarded by a follower meet the same rules on the leader (they skip this node's HTTP front end)", async () => {
    lease = await startInProcessLease();
    const svc = lease.service;
    const proposed = lease.raft.index;
    expect(await svc.execute({ op: "kv-get", key: "app/other" })).toMatchObject({ kind: "error", status: 403 });
    expect(
      await svc.execute({ op: "kv-put", key: "app/other", value: null, flags: 0, lock: "none", session: null }),
    ).toMatchObject({ kind: "error", status: 403 });
    expect(
      await svc.execute({ op: "kv-put", key: K, value: "eA==", flags: 0, lock: "none", session: null }),
    ).toMatchObject({ kind: "error", status: 403 });
    expect(
      await svc.execute({
        op: "session-create",
        name: "litefs",
        node: "n",
        ttl: "5000.5ms",
        ttlMs: 5000.5,
        lockDelayNs: 0,
        behavior: "delete",
      }),
    ).toMatchObject({ kind: "error", status: 400 });
    expect(
      await svc.execute({
        op: "session-create",
        name: "litefs",
        node: "n",
        ttl: "10s",
        ttlMs: 10_000,
        lockDelayNs: 1e300,
        behavior: "delete",
      }),
    ).toMatchObject({ kind: "error", status: 400 });
    const forged = JSON.parse('{"op":"kv-delete","key":"litefs/primary"}') as Parameters<typeof svc.execute>[0];
    expect(await svc.execute(forged)).toMatchObject({ kind: "error", status: 405 });
    expect(lease.raft.index).toBe(proposed);
  });

  it("the largest request LiteFS can make fits the forwarding channel's body limit", () => {
    const request = {
      op: "kv-put",
      key: `${K}/clusterid`.padEnd(MAX_KV_KEY_CHARS, "\u0001"),
      value: Buffer.alloc(MAX_KV_VALUE_BYTES).toString("base64"),
      flags: Number.MAX_SAFE_INTEGER,
      lock: "acquire",
      session: "00000000-0000-0000-0000-000000000000",
    };
    expect(Buffer.byteLength(JSON.stringify(request))).toBeLessThan(MAX_LEASE_REQUEST_BYTES);
  });
});
