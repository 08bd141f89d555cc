// Unit tests of the Raft core's API contract: config validation, the Ready/advance contract,
// message filtering (cluster id, membership), vote durability, timeouts, restore and compaction.
import { describe, expect, it } from "vitest";
import { RaftCore, type RaftConfig, type Ready } from "../../src/raft/core.js";
import { NotLeaderError, RaftConfigError, RaftUsageError } from "../../src/raft/errors.js";
import { raftMessage } from "../support/raft/message.js";

const enc = new TextEncoder();

function config(over: Partial<RaftConfig> = {}): RaftConfig {
  return {
    id: "a",
    voters: ["a", "b", "c"],
    clusterId: "c1",
    electionTick: 10,
    heartbeatTick: 1,
    random: () => 0,
    ...over,
  };
}

/** Persist-nothing host: hand out every Ready and advance it (enough for single-node tests). */
function drain(core: RaftCore): Ready[] {
  const out: Ready[] = [];
  while (core.hasReady()) {
    const rd = core.ready();
    out.push(rd);
    core.advance(rd);
  }
  return out;
}

const msg = raftMessage;

describe("RaftCore config", () => {
  it("rejects bad settings by name", () => {
    expect(() => new RaftCore(config({ voters: ["b", "c"] }))).toThrow(/RaftConfig.voters must include/);
    expect(() => new RaftCore(config({ electionTick: 1 }))).toThrow(/RaftConfig.electionTick/);
    expect(() => new RaftCore(config({ heartbeatTick: 0 }))).toThrow(/RaftConfig.heartbeatTick/);
    expect(() => new RaftCore(config({ clusterId: "" }))).toThrow(RaftConfigError);
    expect(() => new RaftCore(config({ voters: ["a", "a"] }))).toThrow(/duplicate/);
  });
});

describe("RaftCore single node", () => {
  it("elects itself, commits its no-op, then commits proposals after they are durable", () => {
    const core = new RaftCore(config({ voters: ["a"] }));
    core.campaign();
    expect(core.role).toBe("leader");
    expect(core.term).toBe(1);
    const first = drain(core);
    expect(first.flatMap((r) => r.committedEntries).map((e) => e.type)).toEqual(["noop"]);
    const at = core.propose(enc.encode("x"));
    expect(at).toEqual({ index: 2, term: 1 });
    const rd = core.ready();
    // Not committed before the host reports it durable.
    expect(rd.committedEntries).toEqual([]);
    expect(rd.entries.map((e) => e.index)).toEqual([2]);
    core.advance(rd);
    const next = core.ready();
    expect(next.committedEntries.map((e) => e.index)).toEqual([2]);
    expect(next.hardState?.commit).toBe(2);
    core.advance(next);
  });

  it("answers ReadIndex at once once it has committed in its term", () => {
    const core = new RaftCore(config({ voters: ["a"] }));
    core.campaign();
    core.readIndex(enc.encode("r1")); // before the no-op commits: held back
    const rds = drain(core);
    const states = rds.flatMap((r) => r.readStates);
    expect(states).toHaveLength(1);
    expect(states[0]!.index).toBe(1);
  });

  it("a fenced proposal makes later reads wait for it (reads before it, and unfenced ones, do not)", () => {
    const core = new RaftCore(config({ voters: ["a"] }));
    core.campaign();
    drain(core);
    core.propose(enc.encode("plain"));
    core.readIndex(enc.encode("r0"));
    const fenced = core.propose(enc.encode("fenced"), { fenceReads: true });
    core.readIndex(enc.encode("r1"));
    const states = drain(core).flatMap((r) => r.readStates);
    const indexOf = (ctx: string): number | undefined =>
      states.find((st) => new TextDecoder().decode(st.requestCtx) === ctx)?.index;
    // Before the fence: what was committed when it asked (the no-op), not the pending proposal.
    expect(indexOf("r0")).toBe(1);
    // After it: at least the fenced entry, so the reader applies it before its read completes.
    expect(indexOf("r1")).toBe(fenced.index);
  });

  it("enforces the Ready/advance contract", () => {
    const core = new RaftCore(config({ voters: ["a"] }));
    core.campaign();
    core.ready();
    expect(() => core.ready()).toThrow(RaftUsageError);
    expect(core.hasReady()).toBe(false);
  });
});

describe("RaftCore messages", () => {
  it("drops messages of another cluster, from non-members, or addressed to someone else", () => {
    const core = new RaftCore(config());
    drain(core);
    core.step(msg({ type: "vote", from: "b", to: "a", term: 5, clusterId: "other" }));
    core.step(msg({ type: "vote", from: "z", to: "a", term: 5 }));
    core.step(msg({ type: "vote", from: "b", to: "c", term: 5 }));
    expect(core.term).toBe(0);
    expect(core.hasReady()).toBe(false);
  });

  it("persists the vote in the same Ready that carries the grant", () => {
    const core = new RaftCore(config());
    drain(core);
    core.step(msg({ type: "vote", from: "b", to: "a", term: 2, index: 0, logTerm: 0 }));
    const rd = core.ready();
    expect(rd.hardState).toEqual({ term: 2, vote: "b", commit: 0 });
    expect(rd.messages).toHaveLength(1);
    expect(rd.messages[0]).toMatchObject({ type: "voteResp", to: "b", term: 2, reject: false });
    core.advance(rd);
    // A second candidate in the same term is refused.
    core.step(msg({ type: "vote", from: "c", to: "a", term: 2 }));
    expect(core.ready().messages[0]).toMatchObject({ type: "voteResp", to: "c", reject: true });
  });

  it("refuses votes to candidates whose log is behind (last term, then index)", () => {
    const restore = {
      hardState: { term: 3, vote: null, commit: 0 },
      entries: [
        { term: 1, index: 1, type: "noop" as const, data: new Uint8Array() },
        { term: 3, index: 2, type: "noop" as const, data: new Uint8Array() },
      ],
      snapshot: null,
    };
    const core = new RaftCore(config({ restore }));
    drain(core);
    core.step(msg({ type: "vote", from: "b", to: "a", term: 4, index: 5, logTerm: 2 })); // longer, older term
    expect(core.ready().messages[0]).toMatchObject({ type: "voteResp", reject: true });
  });

  it("PreVote does not change the term; followers of a live leader ignore pre-votes", () => {
    const core = new RaftCore(config());
    drain(core);
    core.campaign();
    expect(core.role).toBe("preCandidate");
    expect(core.term).toBe(0);
    const rd = core.ready();
    expect(rd.messages.map((m) => [m.type, m.term])).toEqual([
      ["preVote", 1],
      ["preVote", 1],
    ]);
    core.advance(rd);

    const follower = new RaftCore(config());
    follower.step(msg({ type: "heartbeat", from: "b", to: "a", term: 1 }));
    drain(follower);
    follower.step(msg({ type: "preVote", from: "c", to: "a", term: 2, index: 9, logTerm: 9 }));
    expect(follower.hasReady()).toBe(false);
    expect(follower.term).toBe(1);
  });

  it("propose and read on a follower fail with the leader hint", () => {
    const core = new RaftCore(config());
    expect(() => core.readIndex(enc.encode("r"))).toThrow(NotLeaderError);
    core.step(msg({ type: "heartbeat", from: "b", to: "a", term: 1 }));
    try {
      core.propose(enc.encode("x"));
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(NotLeaderError);
      expect((e as NotLeaderError).leader).toBe("b");
    }
  });
});

describe("RaftCore election timeout", () => {
  it("is randomized in [electionTick, 2*electionTick)", () => {
    const ticksUntilCampaign = (r: number): number => {
      const core = new RaftCore(config({ random: () => r, preVote: false }));
      for (let t = 1; t <= 40; t++) {
        core.tick();
        if (core.role === "candidate") return t;
      }
      return -1;
    };
    expect(ticksUntilCampaign(0)).toBe(10);
    expect(ticksUntilCampaign(0.5)).toBe(15);
    expect(ticksUntilCampaign(0.9999)).toBe(19);
  });
});

describe("RaftCore restore and compaction", () => {
  const entries = [1, 2, 3].map((i) => ({ term: 1, index: i, type: "normal" as const, data: enc.encode(`e${i}`) }));

  it("resumes term, vote and commit, and re-applies committed entries", () => {
    const core = new RaftCore(
      config({ restore: { hardState: { term: 4, vote: "b", commit: 2 }, entries, snapshot: null } }),
    );
    expect([core.term, core.vote, core.commitIndex, core.lastIndex]).toEqual([4, "b", 2, 3]);
    const rd = core.ready();
    expect(rd.hardState).toBeNull();
    expect(rd.committedEntries.map((e) => e.index)).toEqual([1, 2]);
  });

  it("refuses a hard state that commits past the stored log", () => {
    expect(
      () =>
        new RaftCore(config({ restore: { hardState: { term: 1, vote: null, commit: 9 }, entries, snapshot: null } })),
    ).toThrow(/commit 9 is past the last stored entry 3/);
  });

  it("refuses a snapshot taken under another membership", () => {
    const snapshot = { meta: { index: 1, term: 1, voters: ["a", "b", "x"] }, data: new Uint8Array() };
    expect(
      () => new RaftCore(config({ restore: { hardState: { term: 1, vote: null, commit: 1 }, entries: [], snapshot } })),
    ).toThrow(RaftConfigError);
  });

  it("compacts only applied entries, and reports an out-of-date request as null", () => {
    const core = new RaftCore(
      config({ restore: { hardState: { term: 1, vote: null, commit: 3 }, entries, snapshot: null } }),
    );
    expect(() => core.compact(1, new Uint8Array())).toThrow(/applied index 0/);
    drain(core);
    const snap = core.compact(2, enc.encode("state"));
    expect(snap?.meta).toEqual({ index: 2, term: 1, voters: ["a", "b", "c"] });
    expect(core.termAt(1)).toBeUndefined();
    expect(core.termAt(2)).toBe(1);
    expect(core.compact(2, new Uint8Array())).toBeNull();
  });
});
