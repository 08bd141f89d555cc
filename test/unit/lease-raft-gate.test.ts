// The raft-mode write gate: LiteFS's view judged against the lease service's published state
// (file next to the mount). LiteFS primary + state that does not back it = split brain.
import { rmSync } from "node:fs";
import { afterEach, describe, expect, it } from "vitest";
import { pino } from "pino";
import { loadSettings } from "../../src/config/index.js";
import type { SplitBrainError } from "../../src/errors.js";
import { isNotPrimaryError, isSplitBrainError } from "../../src/errors.js";
import { openNode, type LiteFSNode } from "../../src/node/node.js";
import { leaseStatePath, writeLeaseState } from "../../src/lease/published-state.js";
import { raftLeaseElection, type RaftLeaseElection } from "../../src/election/raft-election.js";
import type { PublishedLeaseState } from "../../src/lease/types.js";
import { createTempMount, type TempMount } from "../support/litefs-mount.js";
import { nsFromNow, publishedLeaseState } from "../support/lease/published-state-fixture.js";

const ns = nsFromNow;
const state = publishedLeaseState;

let mount: TempMount | undefined;
let node: LiteFSNode | undefined;
let election: RaftLeaseElection | undefined;
afterEach(async () => {
  await node?.close();
  election?.close();
  if (mount) rmSync(leaseStatePath(mount.path), { force: true });
  mount?.cleanup();
  node = undefined;
  mount = undefined;
  election = undefined;
});

function open(role: "primary" | "replica", initial: PublishedLeaseState | null): { node: LiteFSNode; path: string } {
  mount =
    role === "primary" ? createTempMount({ role: "primary" }) : createTempMount({ role: "replica", primary: "node-a" });
  const path = leaseStatePath(mount.path);
  if (initial) writeLeaseState(path, initial);
  const settings = loadSettings(
    {
      nodeId: "node-b",
      leaderElection: "raft",
      mountPath: mount.path,
      dataPath: "/var/lib/litefs",
      httpAddr: "127.0.0.1:1",
      databaseName: "db",
      raft: { selfAddr: "node-b:7000", peers: ["node-a:7000", "node-c:7000"], secret: "0123456789abcdef" },
    },
    {},
  );
  election = raftLeaseElection({ statePath: path, pollMs: 20 });
  node = openNode(settings, { logger: pino({ level: "silent" }), pollIntervalMs: 0, election });
  return { node, path };
}

const refusal = (n: LiteFSNode): unknown => {
  try {
    n.gate.assertWritable();
    return null;
  } catch (e) {
    return e;
  }
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function writeUntilRefused(n: LiteFSNode, maxMs: number): { refusedAfterMs: number | null; error: unknown } {
  const start = performance.now();
  while (performance.now() - start < maxMs) {
    try {
      n.gate.assertWritable();
    } catch (error) {
      return { refusedAfterMs: performance.now() - start, error };
    }
  }
  return { refusedAfterMs: null, error: null };
}

/** A primary node whose gate answers from a LiteFS /events stand-in, backed by `initial` lease state. */
async function openOnEvents(initial: PublishedLeaseState, pollMs: number) {
  const { startEventsServer } = await import("../support/events-server.js");
  const server = await startEventsServer({ stream: `{"type":"init","data":{"isPrimary":true}}\n` });
  mount = createTempMount({ role: "primary" });
  const path = leaseStatePath(mount.path);
  writeLeaseState(path, initial);
  const settings = loadSettings(
    {
      nodeId: "node-b",
      leaderElection: "raft",
      mountPath: mount.path,
      dataPath: "/var/lib/litefs",
      databaseName: "db",
      raft: { selfAddr: "node-b:7000", peers: ["node-a:7000", "node-c:7000"], secret: "0123456789abcdef" },
    },
    {},
  );
  election = raftLeaseElection({ statePath: path, pollMs });
  const opened = openNode(settings, {
    logger: pino({ level: "silent" }),
    pollIntervalMs: 0,
    election,
    apiUrl: server.url,
  });
  node = opened;
  await opened.ready;
  expect(opened.source).toBe("events");
  return { server, node: opened };
}

describe("raft write gate", () => {
  it("LiteFS primary backed by the lease state is writable", () => {
    const { node: n } = open("primary", state());
    expect(refusal(n)).toBeNull();
    expect(n.splitBrain).toBe(false);
  });

  it("LiteFS primary while the lease names another session: SplitBrainError naming the other primary, event emitted", async () => {
    const { node: n } = open("primary", state({ holder: false, leaseSession: "s-c", primary: "node-c" }));
    const events: SplitBrainError[] = [];
    n.on("split-brain", (e) => events.push(e));
    const e = refusal(n);
    expect(isSplitBrainError(e)).toBe(true);
    expect((e as SplitBrainError).primary).toBe("node-c");
    expect((e as SplitBrainError).reason).toMatch(/held by another session \(s-c, primary "node-c"\)/);
    await sleep(10);
    expect(events).toHaveLength(1);
  });

  it("closes by time alone when the deadline passes (no file change needed)", async () => {
    const { node: n } = open("primary", state({ deadlineNs: ns(150) }));
    expect(refusal(n)).toBeNull();
    await sleep(250);
    const e = refusal(n);
    expect(isSplitBrainError(e)).toBe(true);
    expect((e as SplitBrainError).reason).toMatch(/deadline passed/);
  });

  it("closes when quorum contact is older than the grace, and reopens when the service confirms again", async () => {
    const { node: n, path } = open("primary", state({ contactNs: ns(-1900), graceMs: 2000 }));
    expect(refusal(n)).toBeNull();
    await sleep(200);
    expect((refusal(n) as SplitBrainError).reason).toMatch(/no Raft quorum contact/);
    writeLeaseState(path, state());
    await sleep(100);
    expect(refusal(n)).toBeNull();
  });

  it("refused by the service, or no state at all: split brain (fails closed)", async () => {
    const { node: n } = open("primary", state({ refused: true }));
    expect((refusal(n) as SplitBrainError).reason).toMatch(/unsafe/);
    await node?.close();
    election?.close();
    mount?.cleanup();
    const { node: m } = open("primary", null);
    expect((refusal(m) as SplitBrainError).reason).toMatch(/no lease state/);
  });

  it("a replica is just a replica whatever the state says", () => {
    const { node: n } = open("replica", state({ holder: false, leaseSession: "s-a", primary: "node-a" }));
    const e = refusal(n);
    expect(isNotPrimaryError(e)).toBe(true);
    expect(n.splitBrain).toBe(false);
  });

  it("a promotion published just before LiteFS flips is never judged against stale data", async () => {
    const { node: n, path } = open("replica", state({ holder: false, leaseSession: "s-a", primary: "node-a" }));
    expect(isNotPrimaryError(refusal(n))).toBe(true);
    writeLeaseState(path, state());
    mount!.setPrimary(); // LiteFS flips right after the acquire answer; the poller has not run yet
    expect(refusal(n)).toBeNull();
    expect(n.splitBrain).toBe(false);
  });
});

describe("raft facts for status and metrics", () => {
  it("raftLeaseStatus reads the state file: term, leader, holder, gate", async () => {
    const { raftLeaseStatus } = await import("../../src/election/raft-status.js");
    mount = createTempMount({ role: "primary" });
    const settings = loadSettings(
      {
        nodeId: "node-b",
        leaderElection: "raft",
        mountPath: mount.path,
        dataPath: "/var/lib/litefs",
        httpAddr: "127.0.0.1:1",
        raft: { selfAddr: "node-b:7000", peers: ["node-a:7000"], secret: "0123456789abcdef" },
      },
      {},
    );
    expect(raftLeaseStatus(settings)).toMatchObject({
      available: false,
      gate: "closed",
      problem: expect.stringMatching(/no lease state/),
    });
    writeLeaseState(leaseStatePath(mount.path), state());
    expect(raftLeaseStatus(settings)).toMatchObject({
      available: true,
      term: 2,
      leader: "node-a:7000",
      role: "follower",
      leaseHolder: "node-b",
      holder: true,
      gate: "open",
      problem: null,
    });
  });

  it("the election view counts leader changes for metrics", async () => {
    const { path } = open("primary", state());
    expect(election!.raftSnapshot()).toEqual({
      term: 2,
      leader: "node-a:7000",
      leaderChanges: 0,
      leaseHolder: "node-b",
    });
    writeLeaseState(path, state({ raft: { term: 3, role: "leader", leader: "node-b:7000" } }));
    await sleep(80);
    expect(election!.raftSnapshot()).toMatchObject({ term: 3, leader: "node-b:7000", leaderChanges: 1 });
  });
});

describe("raft write gate under a synchronous write loop (no timers run)", () => {
  // A loop that never yields: only the gate's own clock check can stop it at the deadline.
  it("refuses at the lease deadline while the gate answers from the mount files", () => {
    const { node: n } = open("primary", state({ deadlineNs: ns(150), graceMs: 60_000 }));
    const r = writeUntilRefused(n, 2000);
    expect(r.refusedAfterMs).not.toBeNull();
    expect(r.refusedAfterMs!).toBeGreaterThanOrEqual(100);
    expect(r.refusedAfterMs!).toBeLessThan(1000);
    expect(isSplitBrainError(r.error)).toBe(true);
    expect((r.error as SplitBrainError).message).toMatch(/deadline passed/);
  });

  it("refuses at the lease deadline while the gate answers from /events (no file I/O per write)", async () => {
    const { server } = await openOnEvents(state({ deadlineNs: ns(400), graceMs: 60_000 }), 20);
    try {
      const r = writeUntilRefused(node!, 3000);
      expect(r.refusedAfterMs).not.toBeNull();
      expect(isSplitBrainError(r.error)).toBe(true);
      expect((r.error as SplitBrainError).message).toMatch(/deadline passed/);
    } finally {
      await server.close();
    }
  });
});

describe("raft write gate during a planned handoff (drain file)", () => {
  it("refuses with NotPrimaryError (reason handoff, naming the target) while the drain is in force, even in a synchronous loop on /events", async () => {
    const { handoffDrainPath, writeHandoffDrain, clearHandoffDrain } =
      await import("../../src/election/handoff-drain.js");
    const { server, node } = await openOnEvents(state({ graceMs: 60_000 }), 50);
    try {
      expect(refusal(node)).toBeNull();

      // Written by another process (the handoff); this loop never yields to timers.
      const drain = handoffDrainPath(mount!.path);
      writeHandoffDrain(drain, { target: "node-c", untilNs: ns(5000) });
      const r = writeUntilRefused(node, 3000);
      expect(r.refusedAfterMs).not.toBeNull();
      expect(r.refusedAfterMs!).toBeLessThan(500); // one cached-verdict horizon (50 ms) plus slack
      expect(isNotPrimaryError(r.error)).toBe(true);
      expect(r.error).toMatchObject({ reason: "handoff", primary: "node-c" });
      expect(node.splitBrain).toBe(false);

      // Cleared (handoff failed): writable again; an expired drain does not count either.
      clearHandoffDrain(drain);
      await sleep(120);
      expect(refusal(node)).toBeNull();
      writeHandoffDrain(drain, { target: "node-c", untilNs: ns(-1) });
      await sleep(120);
      expect(refusal(node)).toBeNull();
    } finally {
      await server.close();
    }
  });
});
