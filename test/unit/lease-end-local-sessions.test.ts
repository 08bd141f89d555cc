// LeaseService.endLocalSessions: when `litefs-node run` sees its LiteFS exit, the sessions that
// LiteFS held end at once (the key is freed, lock-delay applies); other members' sessions, and a
// session a handoff moved to another member, stay.
import { afterEach, describe, expect, it } from "vitest";
import type { LeaseReply, LeaseRequest } from "../../src/lease/types.js";
import { localLeaseService } from "../support/lease/local-raft.js";
import { acquireLease, LEASE_KEY as K, sessionCreate } from "../support/lease/requests.js";

const GRACE = 2000;
const create = sessionCreate({ ttlMs: 5000, node: "node-a" });
const acquire = (session: string): LeaseRequest => acquireLease(session, "node-a");

let current: ReturnType<typeof localLeaseService> | undefined;
afterEach(() => {
  current?.service.close();
  current = undefined;
});

function setup() {
  const t = (current = localLeaseService({ quorumGraceMs: GRACE }));
  /** As this host's LiteFS sends it (the front door stamps this member, "self", as holder). */
  const local = (r: LeaseRequest): Promise<LeaseReply> => t.service.handle(r, t.clock.now(), 1000);
  /** As another member's front door forwards it. */
  const from = (member: string, r: LeaseRequest): Promise<LeaseReply> =>
    t.service.execute({ ...r, holder: { member, graceMs: GRACE } } as LeaseRequest);
  const idOf = (r: LeaseReply): string => {
    if (r.kind !== "created") throw new Error(JSON.stringify(r));
    return r.id;
  };
  return { ...t, local, from, idOf };
}

describe("ending a dead LiteFS's sessions", () => {
  it("ends the sessions this member's LiteFS holds, frees the key, and leaves other members' sessions", async () => {
    const t = setup();
    const mine = t.idOf(await t.local(create));
    expect(await t.local(acquire(mine))).toEqual({ kind: "bool", value: true });
    const theirs = t.idOf(await t.from("m2", create));
    expect(await t.service.endLocalSessions(1000)).toBe(1);
    expect(t.sm.session(mine)).toBeNull();
    expect(t.sm.get(K)).toBeNull();
    expect(t.sm.session(theirs)).not.toBeNull();
    // Lock-delay applies as after any invalidation.
    expect(t.sm.lockDelayUntil(K)).toBeGreaterThan(t.clock.now());
    expect(t.published.at(-1)).toMatchObject({ leaseSession: null, holder: false });
  });

  it("a session a handoff moved to another member is that member's: left alone", async () => {
    const t = setup();
    const sid = t.idOf(await t.local(create));
    expect(await t.local(acquire(sid))).toEqual({ kind: "bool", value: true });
    expect(await t.from("m3", acquire(sid))).toEqual({ kind: "bool", value: true });
    expect(await t.service.endLocalSessions(1000)).toBe(0);
    expect(t.sm.session(sid)).not.toBeNull();
  });

  it("nothing to end after a clean exit (LiteFS released and destroyed its session)", async () => {
    const t = setup();
    const sid = t.idOf(await t.local(create));
    await t.local({ op: "session-destroy", id: sid, reason: "destroy" });
    expect(await t.service.endLocalSessions(1000)).toBe(0);
  });

  it("gives up after its budget when Raft cannot commit (the TTL or member-silence rule ends it later)", async () => {
    const t = setup();
    const sid = t.idOf(await t.local(create));
    t.raft.stalled = true;
    const ended = t.service.endLocalSessions(800);
    await t.clock.advance(900);
    expect(await ended).toBe(0);
    t.raft.stalled = false;
    expect(t.sm.session(sid)).not.toBeNull();
  });
});
