// Leader-side session expiry on an injected monotonic clock (2 x TTL, reset by renew and by a
// leadership change, cleared on step-down), lock-delay, TTL limits, ReadIndex on renew, and the
// split-brain refusals (renew answered 404 after the deadline or after losing quorum contact).
import { afterEach, describe, expect, it } from "vitest";
import { LeaseService } from "../../src/lease/service.js";
import type { LeaseReply, LeaseRequest } from "../../src/lease/types.js";
import { leaseProblem } from "../../src/lease/published-state.js";
import { flush, localLeaseService } from "../support/lease/local-raft.js";
import { acquireLease, LEASE_KEY as K, sessionCreate } from "../support/lease/requests.js";

function setup(options: { graceMs?: number } = {}) {
  const { clock, sm, raft, service, events, published } = localLeaseService({ quorumGraceMs: options.graceMs ?? 2000 });
  const svc = service;
  const call = (r: LeaseRequest) => svc.handle(r, clock.now(), 1000);
  const create = async (ttlMs = 10_000, lockDelayNs = 1e9): Promise<string> => {
    const r = await call(sessionCreate({ ttlMs, lockDelayNs, node: "node-a" }));
    if (r.kind !== "created") throw new Error(JSON.stringify(r));
    return r.id;
  };
  const acquire = (sid: string) => call(acquireLease(sid, "node-a"));
  const renew = (sid: string) => call({ op: "session-renew", id: sid });
  return { clock, sm, raft, service: svc, events, published, call, create, acquire, renew };
}

const alive = (r: LeaseReply) => r.kind === "renewed" && r.session !== null;

let current: ReturnType<typeof setup> | undefined;
afterEach(() => {
  current?.service.close();
  current = undefined;
});

describe("session expiry on the leader", () => {
  it("expires after 2 x TTL without renew, not before; the held key is deleted", async () => {
    const t = (current = setup());
    const sid = await t.create(10_000);
    expect(await t.acquire(sid)).toEqual({ kind: "bool", value: true });
    await t.clock.advance(19_900);
    expect(t.sm.session(sid)).not.toBeNull();
    await t.clock.advance(200);
    expect(t.sm.session(sid)).toBeNull();
    expect(t.sm.get(K)).toBeNull();
    expect(t.events).toContainEqual({ type: "expired", session: sid });
  });

  it("a renew restarts the 2 x TTL timer", async () => {
    const t = (current = setup());
    const sid = await t.create(10_000);
    await t.clock.advance(8_000);
    expect(alive(await t.renew(sid))).toBe(true);
    await t.clock.advance(19_900);
    expect(t.sm.session(sid)).not.toBeNull();
    await t.clock.advance(200);
    expect(t.sm.session(sid)).toBeNull();
  });

  it("renew goes through a ReadIndex round before answering", async () => {
    const t = (current = setup());
    const sid = await t.create();
    const before = t.raft.reads;
    await t.renew(sid);
    expect(t.raft.reads).toBeGreaterThan(before);
    t.raft.stalled = true;
    let answered = false;
    void t.renew(sid).then(() => (answered = true));
    await flush();
    expect(answered).toBe(false);
  });

  it("a step-down clears the timers; a new leadership restarts them at now + 2 x TTL", async () => {
    const t = (current = setup());
    const sid = await t.create(10_000);
    await t.clock.advance(15_000);
    t.raft.role = "follower";
    t.service.onRoleChange("follower", 2);
    await t.clock.advance(30_000);
    expect(t.sm.session(sid)).not.toBeNull();
    t.raft.role = "leader";
    t.raft.term = 3;
    t.service.onRoleChange("leader", 3);
    await t.clock.advance(19_900);
    expect(t.sm.session(sid)).not.toBeNull();
    await t.clock.advance(200);
    expect(t.sm.session(sid)).toBeNull();
  });

  it("a session being expired answers renew with 404", async () => {
    const t = (current = setup());
    const sid = await t.create(10_000);
    t.raft.stalled = true; // the expiry proposal cannot commit
    await t.clock.advance(20_100);
    t.raft.stalled = false;
    expect(await t.renew(sid)).toEqual({ kind: "renewed", session: null });
  });
});

describe("lock-delay and TTL limits", () => {
  it("blocks re-acquire for LockDelay after invalidation (answer false), then allows it", async () => {
    const t = (current = setup());
    const a = await t.create(10_000, 1e9);
    await t.acquire(a);
    await t.call({ op: "session-destroy", id: a, reason: "destroy" });
    const b = await t.create();
    expect(await t.acquire(b)).toEqual({ kind: "bool", value: false });
    await t.clock.advance(1001);
    expect(await t.acquire(b)).toEqual({ kind: "bool", value: true });
  });

  it("refuses TTLs below 5 s and above 24 h, no TTL, and what apply would refuse, with 400 before proposing", async () => {
    const t = (current = setup());
    const mk = (ttl: string, ttlMs: number, lockDelayNs = 0) =>
      t.call({ op: "session-create", name: "x", node: "n", ttl, ttlMs, lockDelayNs, behavior: "delete" });
    const proposedBefore = t.raft.index;
    expect(await mk("4s", 4000)).toMatchObject({ kind: "error", status: 400 });
    expect(await mk("25h", 25 * 3600_000)).toMatchObject({ kind: "error", status: 400 });
    expect(await mk("", 0)).toMatchObject({
      kind: "error",
      status: 400,
      message: expect.stringMatching(/TTL is required/),
    });
    expect(await mk("5000.5ms", 5000.5)).toMatchObject({ kind: "error", status: 400 });
    expect(await mk("10s", 10_000, 1e300)).toMatchObject({ kind: "error", status: 400 });
    expect(t.raft.index).toBe(proposedBefore);
    expect(await mk("5s", 5000)).toMatchObject({ kind: "created" });
  });
});

describe("split brain: the next renew is answered 404", () => {
  it("when the renew arrives after the published deadline (last confirmed renew + TTL)", async () => {
    const t = (current = setup());
    const sid = await t.create(10_000);
    await t.acquire(sid);
    const state = t.service.publishedState();
    expect(state.holder).toBe(true);
    expect(BigInt(state.deadlineNs!)).toBe(BigInt(Math.round((t.clock.now() + 10_000) * 1e6)));
    // The host was frozen for 10.5 s: the session still lives (2 x TTL) but the deadline passed.
    await t.clock.advance(10_500);
    expect(
      leaseProblem({ ok: true, state: t.service.publishedState() }, BigInt(Math.round(t.clock.now() * 1e6))),
    ).toMatch(/deadline passed/);
    expect(await t.renew(sid)).toEqual({ kind: "renewed", session: null });
    await flush();
    expect(t.sm.session(sid)).toBeNull();
    expect(t.sm.get(K)).toBeNull();
    expect(t.events.some((e) => e.type === "refused-renew")).toBe(true);
    expect(t.service.refusedRenewCount).toBe(1);
  });

  it("when quorum contact was lost for longer than the grace while holding the lease", async () => {
    const t = (current = setup({ graceMs: 2000 }));
    t.service.start();
    await t.clock.advance(10);
    const sid = await t.create(10_000);
    await t.acquire(sid);
    await t.clock.advance(1000);
    expect(t.service.publishedState().refused).toBe(false);
    t.raft.leader = null; // ReadIndex probes now fail: no contact
    await t.clock.advance(2500);
    const s = t.published.at(-1)!;
    expect(s.refused).toBe(true);
    expect(leaseProblem({ ok: true, state: s }, BigInt(Math.round(t.clock.now() * 1e6)))).toMatch(/unsafe/);
    t.raft.leader = "self"; // contact is back, but LiteFS must still demote
    expect(await t.renew(sid)).toEqual({ kind: "renewed", session: null });
  });

  it("a renew in time keeps the lease and moves the deadline", async () => {
    const t = (current = setup());
    t.service.start();
    const sid = await t.create(10_000);
    await t.acquire(sid);
    await t.clock.advance(5000);
    expect(alive(await t.renew(sid))).toBe(true);
    const s = t.service.publishedState();
    expect(s.holder && !s.refused).toBe(true);
    expect(BigInt(s.deadlineNs!)).toBe(BigInt(Math.round((t.clock.now() + 10_000) * 1e6)));
    expect(leaseProblem({ ok: true, state: s }, BigInt(Math.round(t.clock.now() * 1e6)))).toBeNull();
  });

  it("a session acquired elsewhere is not this node's lease", async () => {
    const t = (current = setup());
    const sid = await t.create();
    // Another host's LiteFS created it: only this host's requests count as local.
    const other = new LeaseService({
      raft: t.raft,
      stateMachine: t.sm,
      clock: t.clock,
      nodeName: "node-b",
      leaseKey: K,
    });
    await other.handle(acquireLease(sid, "node-b"), t.clock.now(), 1000);
    expect(other.publishedState()).toMatchObject({ holder: true });
    const fresh = new LeaseService({
      raft: t.raft,
      stateMachine: t.sm,
      clock: t.clock,
      nodeName: "node-c",
      leaseKey: K,
    });
    expect(fresh.publishedState()).toMatchObject({ holder: false, leaseSession: sid, primary: "node-b" });
    expect(leaseProblem({ ok: true, state: fresh.publishedState() }, 0n)).toMatch(/held by another session/);
  });
});
