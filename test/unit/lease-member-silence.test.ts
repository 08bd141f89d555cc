// Fast failover on the leader (docs/fast-failover.md): sessions record their holder member and its
// grace; the leader ends a session whose holder has been silent for longer than grace + margin,
// counting from its own takeover when it has heard nothing; lock-delay still applies, and an
// acquire waits out a lock-delay that ends within its answer budget; only quorum contact the
// leader can see (Raft messages, not forwarded requests) keeps the holder's write gate open.
import { afterEach, describe, expect, it } from "vitest";
import { ACQUIRE_HOLD_MAX_MS, LeaseService } from "../../src/lease/service.js";
import { LeaseStateMachine } from "../../src/lease/state-machine.js";
import { SAFE_LEASE_KNOBS, type LeaseKnobs, type LeaseReply, type LeaseRequest } from "../../src/lease/types.js";
import { localLeaseService } from "../support/lease/local-raft.js";
import { acquireLease, LEASE_KEY as K, sessionCreate } from "../support/lease/requests.js";
const GRACE = 2000;
const MARGIN = SAFE_LEASE_KNOBS.memberSilenceMarginMs!;

function setup(knobs: Partial<LeaseKnobs> = {}) {
  const { clock, sm, raft, service, events } = localLeaseService({ quorumGraceMs: GRACE, knobs });
  const svc = service;
  const create = (lockDelayNs = 500e6): LeaseRequest => sessionCreate({ lockDelayNs });
  /** A request as member `member`'s front door forwards it (holder stamped there). */
  const forwarded = async (request: LeaseRequest, member: string, budgetMs?: number): Promise<LeaseReply> =>
    svc.execute({ ...request, holder: { member, graceMs: GRACE } } as LeaseRequest, budgetMs);
  const acquire = (session: string): LeaseRequest => acquireLease(session);
  const newSession = async (member: string, lockDelayNs?: number): Promise<string> => {
    const r = await forwarded(create(lockDelayNs), member);
    if (r.kind !== "created") throw new Error(JSON.stringify(r));
    expect(await forwarded(acquire(r.id), member)).toEqual({ kind: "bool", value: true });
    return r.id;
  };
  const stepDown = (): void => {
    raft.role = "follower";
    svc.onRoleChange("follower", raft.term);
  };
  /** Wins term `term`; `bound` is what RaftPort.takeoverBound answers (null: count from now). */
  const takeOver = (term: number, bound: number | null = null): void => {
    raft.takeover = bound;
    raft.role = "leader";
    raft.term = term;
    svc.onRoleChange("leader", term);
  };
  return { clock, sm, raft, service: svc, events, create, acquire, forwarded, newSession, stepDown, takeOver };
}

let current: ReturnType<typeof setup> | undefined;
afterEach(() => {
  current?.service.close();
  current = undefined;
});

describe("member silence: the leader ends a silent holder's session", () => {
  it("records the creating member and its grace; the local front door stamps itself", async () => {
    const t = (current = setup());
    const r = await t.service.handle(t.create(), t.clock.now(), 1000);
    expect(r.kind).toBe("created");
    const id = (r as { id: string }).id;
    expect(t.sm.session(id)?.holder).toEqual({ member: "self", graceMs: GRACE });
  });

  it("counts from the takeover when nothing was heard: ends after grace + margin, not before, and deletes the key", async () => {
    const t = (current = setup());
    const sid = await t.newSession("m2");
    await t.clock.advance(GRACE + MARGIN - 100);
    expect(t.sm.session(sid)).not.toBeNull();
    await t.clock.advance(200);
    expect(t.sm.session(sid)).toBeNull();
    expect(t.sm.get(K)).toBeNull();
    expect(t.events).toContainEqual(expect.objectContaining({ type: "member-silent", session: sid, member: "m2" }));
    // Lock-delay still applies to the freed key.
    expect(t.sm.lockDelayUntil(K)).toBeGreaterThan(t.clock.now());
  });

  it("Raft messages from the holder keep its session; silence after the last one ends it", async () => {
    const t = (current = setup());
    const sid = await t.newSession("m2");
    for (let i = 0; i < 20; i++) {
      t.raft.heard.set("m2", t.clock.now());
      await t.clock.advance(500);
    }
    expect(t.sm.session(sid)).not.toBeNull();
    const last = t.clock.now() - 500;
    await t.clock.advance(GRACE + MARGIN - 600);
    expect(t.sm.session(sid)).not.toBeNull();
    await t.clock.advance(200);
    expect(t.sm.session(sid)).toBeNull();
    const ended = t.events.find((e) => e.type === "member-silent");
    expect(ended && "silentMs" in ended ? ended.silentMs : 0).toBeGreaterThan(GRACE + MARGIN);
    expect(t.clock.now() - last).toBeGreaterThan(GRACE + MARGIN);
  });

  it("a new leader counts from its own takeover, not from what an earlier term heard", async () => {
    const t = (current = setup());
    const sid = await t.newSession("m2");
    await t.clock.advance(GRACE);
    t.stepDown();
    await t.clock.advance(5000);
    expect(t.sm.session(sid)).not.toBeNull(); // followers end nothing
    t.takeOver(2);
    await t.clock.advance(GRACE + MARGIN - 100);
    expect(t.sm.session(sid)).not.toBeNull();
    await t.clock.advance(200);
    expect(t.sm.session(sid)).toBeNull();
  });

  it("a new leader counts from its takeover bound (its voters' last contact with the old leader) when that is earlier", async () => {
    const t = (current = setup());
    const sid = await t.newSession("m2");
    t.stepDown();
    await t.clock.advance(1500); // the election
    // The voters last heard from the old leader 1,400 ms ago: no gate contact confirmed since.
    t.takeOver(2, t.clock.now() - 1400);
    await t.clock.advance(GRACE + MARGIN - 1400 - 100);
    expect(t.sm.session(sid)).not.toBeNull();
    await t.clock.advance(200);
    expect(t.sm.session(sid)).toBeNull();
    const ended = t.events.find((e) => e.type === "member-silent");
    expect(ended && "silentMs" in ended ? ended.silentMs : 0).toBeGreaterThan(GRACE + MARGIN);
  });

  it("a takeover bound in the future counts as the takeover itself", async () => {
    const t = (current = setup());
    const sid = await t.newSession("m2");
    t.stepDown();
    t.takeOver(2, t.clock.now() + 60_000);
    await t.clock.advance(GRACE + MARGIN - 100);
    expect(t.sm.session(sid)).not.toBeNull();
    await t.clock.advance(200);
    expect(t.sm.session(sid)).toBeNull();
  });

  it("the leader's own sessions and sessions without a holder are left to the TTL", async () => {
    const t = (current = setup());
    const own = await t.newSession("self");
    const legacy = await t.service.execute(t.create());
    await t.clock.advance(GRACE + MARGIN + 1000);
    expect(t.sm.session(own)).not.toBeNull();
    expect(t.sm.session((legacy as { id: string }).id)).not.toBeNull();
  });

  it("an acquire with another member's holder moves the session to it (handoff)", async () => {
    const t = (current = setup());
    const sid = await t.newSession("m2");
    expect(await t.forwarded(t.acquire(sid), "m3")).toEqual({ kind: "bool", value: true });
    expect(t.sm.session(sid)?.holder?.member).toBe("m3");
    t.raft.heard.set("m2", t.clock.now() + 10_000); // m2 keeps talking; m3 is silent
    await t.clock.advance(GRACE + MARGIN + 100);
    expect(t.sm.session(sid)).toBeNull();
  });

  it("with the rule switched off (margin null) only the TTL ends sessions", async () => {
    const t = (current = setup({ memberSilenceMarginMs: null }));
    const sid = await t.newSession("m2");
    await t.clock.advance(19_000);
    expect(t.sm.session(sid)).not.toBeNull();
  });
});

describe("acquire during lock-delay", () => {
  it("waits out a lock-delay that ends within the answer budget, then acquires", async () => {
    const t = (current = setup());
    const old = await t.newSession("m2", 500e6);
    await t.service.execute({ op: "session-destroy", id: old, reason: "destroy" });
    await t.clock.advance(100);
    const next = await t.forwarded(t.create(), "m3");
    const id = (next as { id: string }).id;
    const startedAt = t.clock.now();
    let answer: LeaseReply | null = null;
    void t.forwarded(t.acquire(id), "m3").then((r) => (answer = r));
    await t.clock.advance(350);
    expect(answer).toBeNull();
    await t.clock.advance(100);
    expect(answer).toEqual({ kind: "bool", value: true });
    expect(t.clock.now() - startedAt).toBeLessThanOrEqual(ACQUIRE_HOLD_MAX_MS);
  });

  it("answers false at once when the lock-delay outlasts the hold or the budget", async () => {
    const t = (current = setup());
    const old = await t.newSession("m2", 1000e6);
    await t.service.execute({ op: "session-destroy", id: old, reason: "destroy" });
    const next = await t.forwarded(t.create(), "m3");
    const id = (next as { id: string }).id;
    expect(await t.forwarded(t.acquire(id), "m3")).toEqual({ kind: "bool", value: false });
    await t.clock.advance(600);
    // 400 ms left: within the hold, but not within a 300 ms budget.
    expect(await t.forwarded(t.acquire(id), "m3", 300)).toEqual({ kind: "bool", value: false });
  });
});

describe("quorum contact the leader can see", () => {
  it("a forwarded request's reply does not count as quorum contact on a follower", async () => {
    const { clock, raft, service: leader } = localLeaseService();
    leader.close();
    raft.role = "follower";
    raft.leader = "leader-1";
    const service = new LeaseService({
      raft,
      stateMachine: new LeaseStateMachine({ now: () => clock.now() }),
      clock,
      nodeName: "node-a",
      leaseKey: K,
      forward: async () => ({ kind: "created", id: "00000000-0000-4000-8000-000000000000" }),
    });
    const r = await service.handle(
      {
        op: "session-create",
        name: "litefs",
        node: "node-a",
        ttl: "10s",
        ttlMs: 10_000,
        lockDelayNs: 0,
        behavior: "delete",
      },
      clock.now(),
      1000,
    );
    expect(r.kind).toBe("created");
    expect(service.lastQuorumContact).toBeNull();
    service.close();
  });
});
