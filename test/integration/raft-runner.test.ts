// Three in-process runners over real file storage and the real authenticated TCP transport.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { KvStateMachine, encodeKvCommand, type KvResult } from "../support/raft/kv.js";
import { RaftNode, isNotLeaderError, type RaftNodeEvent } from "../../src/raft/runner.js";
import { openRaftStorage, type RaftStorage, type StorageUpdate } from "../../src/raft/storage.js";
import { startTcpTransport, type TcpTransport } from "../../src/raft/transport-tcp.js";
import type { RaftTransport } from "../../src/raft/transport.js";
import type { Message } from "../../src/raft/types.js";
import { net } from "../support/raft/ports.js";

const SECRET = "runner-test-secret-0123456789";
const IDS = ["n1", "n2", "n3"];

interface Member {
  id: string;
  node: RaftNode<KvResult>;
  kv: KvStateMachine;
  violations: string[];
  events: RaftNodeEvent[];
}

let root: string;
let ports: Record<string, number>;
const members = new Map<string, Member>();

/** Storage + transport wrappers that check "durable before sent" on every outgoing message. */
function durabilityChecked(
  storage: RaftStorage,
  transport: TcpTransport,
  violations: string[],
): { storage: RaftStorage; transport: RaftTransport } {
  let term = storage.initial.hardState.term;
  let vote = storage.initial.hardState.vote;
  let last = storage.initial.entries.at(-1)?.index ?? storage.initial.snapshot?.meta.index ?? 0;
  const s: RaftStorage = {
    dir: storage.dir,
    identity: storage.identity,
    initial: storage.initial,
    save(u: StorageUpdate) {
      storage.save(u);
      if (u.hardState) ({ term, vote } = u.hardState);
      if (u.snapshot) last = u.snapshot.meta.index;
      const e = u.entries.at(-1);
      if (e) last = e.index;
    },
    compact: (snap) => storage.compact(snap),
    close: () => storage.close(),
  };
  const t: RaftTransport = {
    send(ms: readonly Message[]) {
      for (const m of ms) {
        // PreVote messages carry the future term on purpose (nothing is persisted for them).
        if (m.term > term && m.type !== "preVote" && m.type !== "preVoteResp")
          violations.push(`${m.type} for term ${m.term} sent while the durable term is ${term}`);
        if (m.type === "voteResp" && !m.reject && vote !== m.to)
          violations.push(`vote for ${m.to} sent while the durable vote is ${vote}`);
        if (m.type === "appResp" && !m.reject && m.index > last)
          violations.push(`append ack for ${m.index} sent while the durable log ends at ${last}`);
      }
      transport.send(ms);
    },
    setHandler: (h) => transport.setHandler(h),
    close: () => transport.close(),
  };
  return { storage: s, transport: t };
}

async function startMember(id: string, opts: { bootstrap?: boolean; snapshotEvery?: number } = {}): Promise<Member> {
  const storage = openRaftStorage({
    dir: join(root, id),
    nodeId: id,
    clusterId: "c1",
    bootstrap: opts.bootstrap ?? false,
  });
  const peers = Object.fromEntries(IDS.filter((p) => p !== id).map((p) => [p, `127.0.0.1:${ports[p]}`]));
  const transport = await startTcpTransport({
    id,
    clusterId: "c1",
    secret: SECRET,
    listen: { host: "127.0.0.1", port: ports[id]! },
    peers,
    reconnectMinMs: 10,
    reconnectMaxMs: 100,
  });
  const violations: string[] = [];
  const events: RaftNodeEvent[] = [];
  const checked = durabilityChecked(storage, transport, violations);
  const kv = new KvStateMachine();
  const node = new RaftNode<KvResult>({
    id,
    voters: IDS,
    clusterId: "c1",
    ...checked,
    stateMachine: kv,
    tickMs: 20,
    snapshotEvery: opts.snapshotEvery ?? 1000,
    proposalTimeoutMs: 3000,
    readTimeoutMs: 3000,
    onEvent: (e) => events.push(e),
  });
  const m = { id, node, kv, violations, events };
  members.set(id, m);
  return m;
}

async function waitFor<T>(what: string, fn: () => T | null | undefined | false, ms = 5000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

function leader(): Member | null {
  const ls = [...members.values()].filter((m) => m.node.status().role === "leader");
  return ls.length === 1 ? ls[0]! : null;
}

async function put(key: string, value: string): Promise<KvResult> {
  for (let attempt = 0; ; attempt++) {
    const l = await waitFor("a leader", leader);
    try {
      return await l.node.propose(encodeKvCommand({ op: "put", key, value }));
    } catch (e) {
      if (attempt > 20 || !isNotLeaderError(e)) throw e;
    }
  }
}

beforeEach(async () => {
  root = mkdtempSync(join(tmpdir(), "raft-runner-"));
  ports = Object.fromEntries(await Promise.all(IDS.map(async (id) => [id, await net.freePort()] as const)));
});

afterEach(async () => {
  await Promise.all([...members.values()].map((m) => m.node.close()));
  for (const m of members.values()) expect(m.violations).toEqual([]);
  members.clear();
  rmSync(root, { recursive: true, force: true });
});

describe("raft runner", () => {
  it("elects a leader, replicates writes and serves linearizable reads on followers", async () => {
    for (const id of IDS) await startMember(id, { bootstrap: true });
    const l = await waitFor("a leader", leader);
    const r = await put("a", "1");
    expect(r).toMatchObject({ ok: true, prev: null });
    await expect(put("a", "2")).resolves.toMatchObject({ ok: true, prev: "1" });
    const follower = [...members.values()].find((m) => m !== l)!;
    await expect(follower.node.propose(encodeKvCommand({ op: "put", key: "x", value: "y" }))).rejects.toSatisfy(
      isNotLeaderError,
    );
    await follower.node.read();
    expect(follower.kv.get("a")).toBe("2");
    const bad = await l.node.propose(new TextEncoder().encode("not json"));
    expect(bad).toMatchObject({ ok: false });
    expect(l.events.some((e) => e.type === "role" && e.role === "leader")).toBe(true);
  });

  it("a new leader's takeover bound is its voters' last contact with the old leader, before the election ended", async () => {
    for (const id of IDS) await startMember(id, { bootstrap: true });
    const old = await waitFor("a leader", leader);
    await put("a", "1");
    const hrMs = (): number => Number(process.hrtime.bigint()) / 1e6;
    expect(old.node.takeoverBound()).not.toBeNull();
    const killedAt = hrMs();
    await old.node.close();
    members.delete(old.id);
    const next = await waitFor("a new leader", leader);
    const seenAt = hrMs();
    const bound = next.node.takeoverBound();
    expect(bound).not.toBeNull();
    // Heartbeats every 20 ms until the kill; the election needs at least 10 ticks (200 ms) after it.
    expect(bound!).toBeGreaterThan(killedAt - 1000);
    expect(bound!).toBeLessThanOrEqual(killedAt + 50);
    expect(seenAt - bound!).toBeGreaterThanOrEqual(200 - 50);
  });

  it("keeps acknowledged writes across a restart of every node, and refuses a wiped node", async () => {
    for (const id of IDS) await startMember(id, { bootstrap: true });
    for (let i = 0; i < 5; i++) await put(`k${i}`, `v${i}`);
    await Promise.all([...members.values()].map((m) => m.node.close()));
    members.clear();
    for (const id of IDS) await startMember(id);
    await waitFor("a leader", leader);
    const any = members.get("n2")!;
    // A read needs a known leader; n2 may hear of the new one a heartbeat after it is elected.
    await waitFor("n2 to know the leader", () => any.node.status().leader !== null);
    await any.node.read();
    expect(any.kv.entries().sort()).toEqual(Array.from({ length: 5 }, (_, i) => [`k${i}`, `v${i}`]));
    await members.get("n3")!.node.close();
    members.delete("n3");
    rmSync(join(root, "n3"), { recursive: true });
    await expect(startMember("n3")).rejects.toThrow(/Raft storage for node "n3" in cluster "c1" is missing/);
  });

  it("compacts the log and catches a lagging node up with a snapshot", async () => {
    for (const id of IDS) await startMember(id, { bootstrap: true, snapshotEvery: 5 });
    await waitFor("a leader", leader);
    const lagging = [...members.values()].find((m) => m !== leader())!;
    await lagging.node.close();
    members.delete(lagging.id);
    for (let i = 0; i < 20; i++) await put(`k${i}`, `v${i}`);
    const l = await waitFor("a leader", leader);
    expect(l.node.status().snapshotIndex).toBeGreaterThanOrEqual(15);
    const back = await startMember(lagging.id, { snapshotEvery: 5 });
    await waitFor("the snapshot", () => back.events.some((e) => e.type === "snapshot" && e.source === "leader"));
    await back.node.read();
    expect(back.kv.size).toBe(20);
    expect(back.kv.get("k19")).toBe("v19");
  });
});

describe("kv state machine", () => {
  const at = (index: number, cmd: Parameters<typeof encodeKvCommand>[0]) => ({
    index,
    term: 1,
    type: "normal" as const,
    data: encodeKvCommand(cmd),
  });

  it("applies put, delete and compare-and-set, and answers bad commands with an error result", () => {
    const kv = new KvStateMachine();
    expect(kv.apply(at(1, { op: "put", key: "a", value: "1" }))).toEqual({ ok: true, index: 1, prev: null });
    expect(kv.apply(at(2, { op: "cas", key: "a", expect: "0", value: "2" }))).toEqual({
      ok: false,
      index: 2,
      error: "compare failed",
      current: "1",
    });
    expect(kv.apply(at(3, { op: "cas", key: "a", expect: "1", value: "2" }))).toEqual({
      ok: true,
      index: 3,
      prev: "1",
    });
    expect(kv.apply(at(4, { op: "cas", key: "b", expect: null, value: "x" }))).toEqual({
      ok: true,
      index: 4,
      prev: null,
    });
    expect(kv.apply(at(5, { op: "delete", key: "a" }))).toEqual({ ok: true, index: 5, prev: "2" });
    expect(kv.apply({ index: 6, term: 1, type: "normal", data: new Uint8Array([0xff]) })).toMatchObject({
      ok: false,
      error: expect.stringMatching(/not a JSON command/),
    });
    expect(
      kv.apply({ index: 7, term: 1, type: "normal", data: new TextEncoder().encode('{"op":"zap","key":"a"}') }),
    ).toMatchObject({ ok: false, error: expect.stringMatching(/unknown or malformed op "zap"/) });
    expect(kv.entries()).toEqual([["b", "x"]]);
  });

  it("round-trips its state through snapshot/restore and rejects a foreign snapshot", () => {
    const kv = new KvStateMachine();
    kv.apply(at(1, { op: "put", key: "z", value: "1" }));
    kv.apply(at(2, { op: "put", key: "a", value: "2" }));
    const copy = new KvStateMachine();
    copy.restore(kv.snapshot());
    expect(copy.entries().sort()).toEqual([
      ["a", "2"],
      ["z", "1"],
    ]);
    expect(new TextDecoder().decode(kv.snapshot())).toBe('[["a","2"],["z","1"]]');
    expect(() => copy.restore(new TextEncoder().encode('{"a":1}'))).toThrow(
      /not a list of \[key, value\] string pairs/,
    );
  });
});
