// RaftContact (src/raft/contact.ts): when each member was last heard from, this member's last
// contact with a leader, the age a granted vote carries, and the takeover bound a new leader
// derives from its voters' reports (docs/fast-failover.md).
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { decodeMessage, encodeMessage } from "../../src/raft/codec.js";
import { RaftContact } from "../../src/raft/contact.js";
import type { Message, MessageType } from "../../src/raft/types.js";
import { raftMessage } from "../support/raft/message.js";

const IDS = ["n1", "n2", "n3"];

function clock(start = 10_000) {
  const c = { t: start, now: () => c.t };
  return c;
}

const msg = (type: MessageType, from: string, term = 2, over: Partial<Message> = {}): Message =>
  raftMessage({ type, from, to: "n1", term, ...over });

/** The age (ms) a stamped granted vote carries. */
function ageOf(m: Message): number {
  expect(m.context).not.toBeNull();
  return Buffer.from(m.context!).readUInt32BE(0);
}

/** A granted vote from `from` carrying `ageMs`, as another member's RaftContact stamps it. */
function grantedVote(from: string, term: number, ageMs: number): Message {
  const c = clock(1_000_000);
  const voter = new RaftContact(IDS, c.now);
  c.t += ageMs;
  return voter.outgoing(raftMessage({ type: "voteResp", from, to: "n1", term }));
}

describe("RaftContact", () => {
  it("records when each member's last message arrived, members only", () => {
    const c = clock();
    const contact = new RaftContact(IDS, c.now);
    contact.received(msg("appResp", "n2"));
    c.t += 70;
    contact.received(msg("heartbeatResp", "n3"));
    contact.received(msg("heartbeat", "stranger"));
    expect(contact.heardFrom("n2")).toBe(10_000);
    expect(contact.heardFrom("n3")).toBe(10_070);
    expect(contact.heardFrom("stranger")).toBeNull();
  });

  it("a member asking for votes is not counted as heard (one that hears nobody keeps campaigning)", () => {
    const c = clock();
    const contact = new RaftContact(IDS, c.now);
    contact.received(msg("readIndex", "n2"));
    c.t += 500;
    contact.received(msg("preVote", "n2", 3));
    contact.received(msg("vote", "n2", 3));
    expect(contact.heardFrom("n2")).toBe(10_000);
    c.t += 10;
    contact.received(msg("preVoteResp", "n2", 3));
    expect(contact.heardFrom("n2")).toBe(10_510);
  });

  it("stamps a granted vote with the time since the last leader message (boot counts as one)", () => {
    const c = clock();
    const contact = new RaftContact(IDS, c.now);
    c.t += 250;
    // Boot is contact: a restarted member may have acknowledged a leader just before it went down.
    expect(ageOf(contact.outgoing(msg("voteResp", "n1")))).toBe(250);
    for (const type of ["heartbeat", "app", "snap"] as const) {
      contact.received(msg(type, "n2"));
      c.t += 40;
      expect(ageOf(contact.outgoing(msg("voteResp", "n1"))), type).toBe(40);
    }
    // Messages that are not a leader's do not count as leader contact.
    c.t += 100;
    contact.received(msg("vote", "n3"));
    contact.received(msg("heartbeatResp", "n3"));
    expect(ageOf(contact.outgoing(msg("voteResp", "n1")))).toBe(140);
  });

  it("leaves refused votes, pre-votes and every other message as they are", () => {
    const contact = new RaftContact(IDS, clock().now);
    for (const m of [
      msg("voteResp", "n1", 2, { reject: true }),
      msg("preVoteResp", "n1"),
      msg("heartbeatResp", "n1", 2, { context: new Uint8Array([1, 2]) }),
      msg("app", "n1"),
    ])
      expect(contact.outgoing(m)).toBe(m);
  });

  it("counts leading as contact: age 0 while it leads, contact at the step-down after", () => {
    const c = clock();
    const contact = new RaftContact(IDS, c.now);
    contact.roleChanged("leader", 3);
    c.t += 5000;
    expect(ageOf(contact.outgoing(msg("voteResp", "n1", 4)))).toBe(0);
    contact.roleChanged("follower", 4);
    c.t += 30;
    expect(ageOf(contact.outgoing(msg("voteResp", "n1", 4)))).toBe(30);
  });

  it("a new leader's bound is the latest contact its voters reported for the term it won, its own included", () => {
    const c = clock(50_000);
    const contact = new RaftContact(IDS, c.now);
    contact.received(msg("heartbeat", "n2", 1)); // own contact: 50,000
    c.t = 52_000;
    // n2 last heard from a leader 1,500 ms before its vote arrived, n3 300 ms before its vote.
    contact.received(grantedVote("n2", 2, 1500));
    c.t = 52_100;
    contact.received(grantedVote("n3", 2, 300));
    // A vote of an older term and a refused vote say nothing about this election.
    contact.received(grantedVote("n3", 1, 0));
    contact.received(msg("voteResp", "n2", 2, { reject: true }));
    expect(contact.takeoverBound()).toBeNull();
    c.t = 52_200;
    contact.roleChanged("leader", 2);
    expect(contact.takeoverBound()).toBe(51_800);
    c.t = 60_000;
    contact.roleChanged("follower", 3);
    expect(contact.takeoverBound()).toBeNull();
  });

  it("a vote without an age (a member that does not report one) counts as contact on arrival", () => {
    const c = clock(50_000);
    const contact = new RaftContact(IDS, c.now);
    c.t = 53_000;
    contact.received(msg("voteResp", "n2", 5));
    contact.received(msg("voteResp", "n3", 5, { context: new Uint8Array([0, 0, 1]) }));
    contact.roleChanged("leader", 5);
    expect(contact.takeoverBound()).toBe(53_000);
  });

  it("votes of an earlier term are forgotten when a later term's votes arrive", () => {
    const c = clock(0);
    const contact = new RaftContact(IDS, c.now);
    c.t = 10_000;
    contact.received(grantedVote("n2", 3, 0)); // contact 10,000 in term 3
    c.t = 11_000;
    contact.received(grantedVote("n3", 4, 9000)); // contact 2,000 in term 4
    contact.roleChanged("leader", 4);
    expect(contact.takeoverBound()).toBe(2000);
  });

  it("the age survives the wire codec (old decoders accept it: a context is a known field)", () => {
    const stamped = grantedVote("n2", 7, 1234);
    const back = decodeMessage(encodeMessage(stamped));
    const c = clock(0);
    const contact = new RaftContact(IDS, c.now);
    c.t = 5000;
    contact.received(back);
    contact.roleChanged("leader", 7);
    expect(contact.takeoverBound()).toBe(5000 - 1234);
  });

  it("never earlier than any voter's real last leader contact, whatever the delays (property)", () => {
    // Real time is one line; each voter's clock has its own offset (rates equal). A voter heard a
    // leader at `contact`, voted `decide` ms later, sent `send` ms after that; the vote arrived
    // `transit` ms later; the candidate took office `later` ms after the last vote.
    const voter = fc.record({
      contact: fc.integer({ min: 0, max: 100_000 }),
      decide: fc.integer({ min: 0, max: 5000 }),
      send: fc.integer({ min: 0, max: 200 }),
      transit: fc.integer({ min: 0, max: 3000 }),
      offset: fc.integer({ min: -1_000_000, max: 1_000_000 }),
    });
    fc.assert(
      fc.property(
        fc.array(voter, { minLength: 1, maxLength: 2 }),
        fc.integer({ min: 0, max: 1000 }),
        (voters, later) => {
          const leaderClock = { t: 0 };
          const contact = new RaftContact(IDS, () => leaderClock.t);
          const arrivals = voters
            .map((v, i) => {
              const vc = { t: v.contact + v.offset };
              const c = new RaftContact(IDS, () => vc.t);
              c.received(msg("heartbeat", "n1", 1));
              vc.t += v.decide + v.send;
              const vote = c.outgoing(raftMessage({ type: "voteResp", from: IDS[i + 1]!, to: "n1", term: 2 }));
              return { at: v.contact + v.decide + v.send + v.transit, vote };
            })
            .sort((a, b) => a.at - b.at);
          for (const a of arrivals) {
            leaderClock.t = a.at;
            contact.received(a.vote);
          }
          leaderClock.t += later;
          contact.roleChanged("leader", 2);
          const bound = contact.takeoverBound()!;
          for (const v of voters) expect(bound).toBeGreaterThanOrEqual(v.contact);
        },
      ),
    );
  });
});
