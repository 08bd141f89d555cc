// Consul's session/KV semantics in the replicated state machine (docs/raft-lease.md).
import { describe, expect, it } from "vitest";
import { encodeLeaseCommand, type LeaseCommand, type SessionSpec } from "../../src/lease/commands.js";
import { MAX_LOCK_DELAY_MS } from "../../src/lease/limits.js";
import { LeaseStateMachine, type LeaseChange } from "../../src/lease/state-machine.js";

const K = "litefs/primary";
const b64 = (s: string) => Buffer.from(s).toString("base64");

function machine(start = 0) {
  let now = start;
  const changes: LeaseChange[] = [];
  const sm = new LeaseStateMachine({ now: () => now, onChange: (c) => changes.push(c) });
  let index = 0;
  const apply = (cmd: LeaseCommand) =>
    sm.apply({ term: 1, index: ++index, type: "normal", data: encodeLeaseCommand(cmd) });
  const session = (id: string, extra: Partial<SessionSpec> = {}) =>
    apply({
      op: "session-create",
      session: {
        id,
        name: "litefs",
        node: "n",
        ttl: "10s",
        ttlMs: 10_000,
        lockDelayNs: 1e9,
        behavior: "delete",
        ...extra,
      },
    });
  const acquire = (sid: string, value = "v") =>
    apply({ op: "kv-set", key: K, value: b64(value), flags: 0, lock: "acquire", session: sid });
  const release = (sid: string) =>
    apply({ op: "kv-set", key: K, value: null, flags: 0, lock: "release", session: sid });
  const put = (value: string) =>
    apply({ op: "kv-set", key: K, value: b64(value), flags: 7, lock: "none", session: null });
  const destroy = (id: string) => apply({ op: "session-destroy", id, reason: "destroy" });
  return {
    sm,
    apply,
    session,
    acquire,
    release,
    put,
    destroy,
    changes,
    setNow: (t: number) => (now = t),
    index: () => index,
  };
}

describe("lease state machine: acquire", () => {
  it("a free key: LockIndex + 1, the holder recorded, indexes = Raft index", () => {
    const m = machine();
    m.session("s1");
    expect(m.acquire("s1")).toEqual({ index: 2, ok: true });
    expect(m.sm.get(K)).toEqual({
      key: K,
      value: b64("v"),
      flags: 0,
      session: "s1",
      lockIndex: 1,
      createIndex: 2,
      modifyIndex: 2,
    });
  });

  it("same session again: success, LockIndex unchanged, value replaced", () => {
    const m = machine();
    m.session("s1");
    m.acquire("s1", "one");
    expect(m.acquire("s1", "two").ok).toBe(true);
    expect(m.sm.get(K)).toMatchObject({
      value: b64("two"),
      lockIndex: 1,
      session: "s1",
      createIndex: 2,
      modifyIndex: 3,
    });
  });

  it("another live holder: false and nothing changes", () => {
    const m = machine();
    m.session("s1");
    m.session("s2");
    m.acquire("s1", "one");
    const before = m.sm.get(K);
    expect(m.acquire("s2", "two")).toEqual({ index: 4, ok: false });
    expect(m.sm.get(K)).toEqual(before);
  });

  it("an unknown session is an error (Consul: invalid session)", () => {
    const m = machine();
    expect(m.acquire("nope")).toMatchObject({ ok: false, error: expect.stringContaining("invalid session") });
    expect(m.sm.get(K)).toBeNull();
  });

  it("re-acquiring a released key increments LockIndex again", () => {
    const m = machine();
    m.session("s1");
    m.session("s2");
    m.acquire("s1");
    m.release("s1");
    m.acquire("s2");
    expect(m.sm.get(K)).toMatchObject({ session: "s2", lockIndex: 2 });
  });
});

describe("lease state machine: release and plain PUT", () => {
  it("only the holder releases; the value becomes the (empty) body; LockIndex kept", () => {
    const m = machine();
    m.session("s1");
    m.session("s2");
    m.acquire("s1");
    expect(m.release("s2").ok).toBe(false);
    expect(m.release("s1").ok).toBe(true);
    expect(m.sm.get(K)).toMatchObject({ session: null, value: null, lockIndex: 1 });
    expect(m.release("s1").ok).toBe(false);
  });

  it("release of a missing key is false", () => {
    const m = machine();
    m.session("s1");
    expect(m.release("s1").ok).toBe(false);
  });

  it("a plain PUT keeps the holder and LockIndex", () => {
    const m = machine();
    m.session("s1");
    m.acquire("s1");
    expect(m.put("plain").ok).toBe(true);
    expect(m.sm.get(K)).toMatchObject({ session: "s1", lockIndex: 1, value: b64("plain"), flags: 7 });
  });
});

describe("lease state machine: invalidation", () => {
  it("behavior delete: the held key is deleted; lock-delay recorded at apply time", () => {
    const m = machine(5000);
    m.session("s1");
    m.acquire("s1");
    expect(m.destroy("s1").ok).toBe(true);
    expect(m.sm.get(K)).toBeNull();
    expect(m.sm.session("s1")).toBeNull();
    expect(m.sm.lockDelayUntil(K)).toBe(6000);
    m.setNow(6000);
    expect(m.sm.lockDelayUntil(K)).toBe(0);
    expect(m.changes.at(-1)).toEqual({ type: "session-invalidated", id: "s1", reason: "destroy", keys: [K] });
  });

  it("sessions LiteFS never creates are refused at apply with the front door's reasons, changing nothing", () => {
    const m = machine();
    const before = Buffer.from(m.sm.snapshot());
    const cases: [Partial<Record<keyof SessionSpec, unknown>>, RegExp][] = [
      [{ behavior: "release" }, /Behavior/],
      [{ ttl: "", ttlMs: 0 }, /TTL is required/],
      [{ ttl: "5000.5ms", ttlMs: 5000.5 }, /whole number of milliseconds/],
      [{ ttl: "10s", ttlMs: 20_000 }, /does not match/],
      [{ ttl: "25h", ttlMs: 25 * 3600_000 }, /Invalid Session TTL/],
      [{ lockDelayNs: 1e300 }, /LockDelay/],
      [{ lockDelayNs: -1 }, /LockDelay/],
      [{ id: "" }, /session id/],
    ];
    for (const [extra, why] of cases) {
      const r = m.session("s1", extra as Partial<SessionSpec>);
      expect(r, JSON.stringify(extra)).toMatchObject({
        ok: false,
        refusal: "invalid",
        error: expect.stringMatching(why),
      });
    }
    expect(Buffer.from(m.sm.snapshot()).equals(before)).toBe(true);
  });

  it("lock-delay is capped at 60 s and absent for a zero LockDelay", () => {
    const m = machine(0);
    m.session("s1", { lockDelayNs: 120e9 });
    m.acquire("s1");
    m.destroy("s1");
    expect(m.sm.lockDelayUntil(K)).toBe(MAX_LOCK_DELAY_MS);
    const z = machine(0);
    z.session("s1", { lockDelayNs: 0 });
    z.acquire("s1");
    z.destroy("s1");
    expect(z.sm.lockDelayUntil(K)).toBe(0);
  });

  it("destroying an unknown session changes nothing", () => {
    const m = machine();
    expect(m.destroy("ghost").ok).toBe(false);
  });

  it("a destroy for a member's silence applies only while that member still holds the session", () => {
    const m = machine();
    m.session("s1", { holder: { member: "m2", graceMs: 2000 } });
    m.acquire("s1");
    // A handoff's acquire moved the session to m3 before the silence end for m2 was applied.
    m.apply({
      op: "kv-set",
      key: K,
      value: b64("v"),
      flags: 0,
      lock: "acquire",
      session: "s1",
      holder: { member: "m3", graceMs: 2000 },
    });
    const skipped = m.apply({ op: "session-destroy", id: "s1", reason: "expired", onlyIfHolder: "m2" });
    expect(skipped.ok).toBe(false);
    expect(m.sm.session("s1")).not.toBeNull();
    expect(m.sm.get(K)).toMatchObject({ session: "s1" });
    const ended = m.apply({ op: "session-destroy", id: "s1", reason: "expired", onlyIfHolder: "m3" });
    expect(ended.ok).toBe(true);
    expect(m.sm.get(K)).toBeNull();
  });

  it("a malformed holder condition is refused at apply, changing nothing", () => {
    const m = machine();
    m.session("s1", { holder: { member: "m2", graceMs: 2000 } });
    const data = new TextEncoder().encode(
      JSON.stringify({ op: "session-destroy", id: "s1", reason: "expired", onlyIfHolder: 7 }),
    );
    expect(m.sm.apply({ term: 1, index: 99, type: "normal", data })).toMatchObject({
      ok: false,
      error: expect.stringContaining("holder condition"),
    });
    expect(m.sm.session("s1")).not.toBeNull();
  });

  it("keys of other sessions are untouched", () => {
    const m = machine();
    m.session("s1");
    m.session("s2");
    m.apply({ op: "kv-set", key: "other", value: null, flags: 0, lock: "acquire", session: "s2" });
    m.acquire("s1");
    m.destroy("s1");
    expect(m.sm.get("other")).toMatchObject({ session: "s2" });
  });
});

describe("lease state machine: robustness and snapshots", () => {
  it("bad commands are results, never throws", () => {
    const m = machine();
    expect(m.sm.apply({ term: 1, index: 1, type: "normal", data: new TextEncoder().encode("{nope") }).ok).toBe(false);
    expect(
      m.sm.apply({ term: 1, index: 2, type: "normal", data: new TextEncoder().encode('{"op":"bogus"}') }),
    ).toMatchObject({ ok: false, error: expect.stringContaining("bogus") });
    expect(m.session("dup").ok).toBe(true);
    expect(m.session("dup")).toMatchObject({ ok: false });
  });

  it("snapshot/restore round-trips sessions, KV, indexes and forwarding addresses; equal states give equal bytes", () => {
    const m = machine();
    m.session("s1");
    m.session("s2", { lockDelayNs: 0, ttl: "30s", ttlMs: 30_000 });
    m.acquire("s1");
    m.apply({ op: "announce", node: "127.0.0.1:1", forwardAddr: "127.0.0.1:2" });
    const bytes = m.sm.snapshot();
    const copy = new LeaseStateMachine({ now: () => 0 });
    copy.restore(bytes);
    expect(copy.get(K)).toEqual(m.sm.get(K));
    expect(copy.session("s2")).toEqual(m.sm.session("s2"));
    expect(copy.forwardAddr("127.0.0.1:1")).toBe("127.0.0.1:2");
    expect(copy.kvTableIndex).toBe(m.sm.kvTableIndex);
    expect(Buffer.from(copy.snapshot()).equals(Buffer.from(bytes))).toBe(true);
    expect(() => copy.restore(new TextEncoder().encode('{"v":2}'))).toThrow(/version-1/);
  });
});
