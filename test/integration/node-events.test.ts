// The node and its WriteGate fed by a (replayed) LiteFS /events stream.
import { afterEach, describe, expect, it } from "vitest";
import { pino } from "pino";
import type { LiteFSSettingsInput } from "../../src/config/index.js";
import { isNotPrimaryError, isSplitBrainError, NotPrimaryError, SplitBrainError } from "../../src/errors.js";
import type { LiteFSNode, NodeStateSnapshot } from "../../src/node/node.js";
import { leaseStatePath, writeLeaseState } from "../../src/lease/published-state.js";
import type { EventsFixture, EventsServer } from "../support/events-server.js";
import { readLitefsFixture, type MountState, type TempMount } from "../support/litefs-mount.js";
import { NodeStandIns, nodeSettings } from "../support/node-standin.js";
import { waitFor, refusal } from "../support/node-probes.js";

const standIns = new NodeStandIns();
afterEach(() => standIns.closeAll());

const silent = pino({ level: "silent" });
const FAST = { initialMs: 10, maxMs: 40 };

function setup(
  nodeId: string,
  fixture: EventsFixture | { stream: string },
  mountState: MountState,
  extra: Partial<LiteFSSettingsInput> = {},
): Promise<{ node: LiteFSNode; server: EventsServer; mount: TempMount }> {
  return standIns.start({
    nodeId,
    events: typeof fixture === "string" ? { fixture } : { stream: fixture.stream },
    mount: mountState,
    settings: extra,
    node: { logger: silent, backoff: FAST, pollIntervalMs: 20, readyTimeoutMs: 3000 },
  });
}

describe("gate fed by /events", () => {
  it("primary: writable from init, and no file I/O while connected (mount deleted, still answers from events)", async () => {
    const { node: n, mount: m } = await setup("node-a", "primary", { role: "primary" });
    expect(n.source).toBe("events");
    n.gate.assertWritable();
    m.remove();
    for (let i = 0; i < 100; i++) n.gate.assertWritable();
    expect(n.snapshot()).toEqual({ role: "primary", primary: "node-a", splitBrain: false, source: "events" });
  });

  it("replica: events win over contradicting files while connected", async () => {
    // The files say primary; the stream says replica of node-a. The gate must follow the stream.
    const { node: n, mount: m } = await setup("node-b", "replica", { role: "primary" });
    const e = refusal(n) as NotPrimaryError;
    expect(e).toBeInstanceOf(NotPrimaryError);
    expect(e.reason).toBe("replica");
    expect(e.primary).toBe("node-a");
    m.writeRaw(".lag", "garbage");
    expect((refusal(n) as NotPrimaryError).reason).toBe("replica");
  });

  it("replica that lost its primary: follows the recorded flapping", async () => {
    const { node: n, server: s } = await setup(
      "node-b",
      { stream: readLitefsFixture("events-replica-primary-lost.ndjson").split("\n")[0]! + "\n" },
      { role: "replica" },
    );
    const changes: NodeStateSnapshot[] = [];
    n.on("role-change", (snap) => changes.push(snap));
    expect((refusal(n) as NotPrimaryError).reason).toBe("replica");
    const rest = readLitefsFixture("events-replica-primary-lost.ndjson").split("\n").slice(1);
    const reasons: string[] = [];
    for (const line of rest.filter(Boolean)) {
      const before = changes.length;
      await s.send(`${line}\n`);
      await waitFor(() => changes.length === before + 1, "a role-change");
      reasons.push((refusal(n) as NotPrimaryError).reason);
    }
    expect(reasons).toEqual(["no-primary", "replica", "no-primary", "replica"]);
    expect(changes.map((c) => c.primary)).toEqual([null, "node-a", null, "node-a"]);
    expect(changes.every((c) => c.role === "replica" && c.source === "events" && !c.splitBrain)).toBe(true);
  });

  it("raft mode: promotion pushed by primaryChange makes the node writable at once when the lease service backs it", async () => {
    const {
      node: n,
      server: s,
      mount: m,
    } = await setup(
      "node-a",
      "replica-primary-lost",
      { role: "replica" },
      {
        leaderElection: "raft",
        primaryHostname: null,
        raft: { selfAddr: "node-a:7000", peers: ["node-b:7000"], secret: "0123456789abcdef" },
      },
    );
    expect(isNotPrimaryError(refusal(n))).toBe(true);
    // What the lease service on this host publishes once this node's LiteFS holds the lease.
    const ns = (ms: number) => (process.hrtime.bigint() + BigInt(ms * 1e6)).toString();
    writeLeaseState(leaseStatePath(m.path), {
      v: 1,
      pid: process.pid,
      node: "node-a",
      raftId: "node-a:7000",
      updatedNs: ns(0),
      leaseSession: "s-a",
      primary: "node-a",
      holder: true,
      refused: false,
      deadlineNs: ns(60_000),
      contactNs: ns(30_000),
      graceMs: 60_000,
      raft: { term: 3, role: "leader", leader: "node-a:7000" },
    });
    await s.sendEvent({ type: "primaryChange", data: { isPrimary: true } });
    await waitFor(() => refusal(n) === null, "writable");
    expect(n.role).toBe("primary");
    expect(n.primary).toBe("node-a");
  });

  it("falls back to the files when the stream drops, and back to events when it returns", async () => {
    const { node: n, server: s, mount: m } = await setup("node-a", "primary", { role: "primary" });
    m.setReplicaLostPrimary();
    n.gate.assertWritable(); // events still say primary
    s.setEventsStatus(503);
    s.dropConnections();
    await waitFor(() => n.source === "files", "fallback to files");
    expect((refusal(n) as NotPrimaryError).reason).toBe("no-primary");
    s.setEventsStatus(200);
    await waitFor(() => n.source === "events", "events again");
    n.gate.assertWritable();
  });

  it("while disconnected, the poll announces file changes nobody asked about", async () => {
    const { node: n, server: s, mount: m } = await setup("node-a", "primary", { role: "primary" });
    s.setEventsStatus(503);
    s.dropConnections();
    await waitFor(() => n.source === "files", "fallback");
    const changes: NodeStateSnapshot[] = [];
    n.on("role-change", (snap) => changes.push(snap));
    m.setReplica({ primary: "node-a" });
    await waitFor(() => changes.length > 0, "role-change from the poll");
    expect(changes[0]).toMatchObject({ role: "replica", primary: "node-a", source: "files" });
  });
});

describe("static split brain from /events", () => {
  it("LiteFS says this (non-primaryHostname) node is primary: SplitBrainError, announced once per episode", async () => {
    const { node: n, server: s } = await setup("node-b", "primary", { role: "replica" });
    const seen: SplitBrainError[] = [];
    n.on("split-brain", (e) => seen.push(e));
    const e = refusal(n) as SplitBrainError;
    expect(e).toBeInstanceOf(SplitBrainError);
    expect(e.nodeId).toBe("node-b");
    expect(e.primary).toBe("node-a");
    expect(n.splitBrain).toBe(true);
    // More "you are primary" pushes within the same episode: no new announcement.
    await s.sendEvent({ type: "primaryChange", data: { isPrimary: true } });
    await s.sendEvent({ type: "primaryChange", data: { isPrimary: true } });
    await new Promise((r) => setTimeout(r, 50));
    // The split brain began at init, just before createNode resolved: a listener attached right
    // after `await createNode()` still hears it (announcements run from setImmediate), once.
    expect(seen).toHaveLength(1);
    await s.sendEvent({ type: "primaryChange", data: { isPrimary: false, hostname: "node-a" } });
    await waitFor(() => !n.splitBrain, "episode over");
    expect(isNotPrimaryError(refusal(n))).toBe(true);
    await s.sendEvent({ type: "primaryChange", data: { isPrimary: true } });
    await waitFor(() => seen.length === 2, "second episode announced");
    await s.sendEvent({ type: "primaryChange", data: { isPrimary: true } });
    await new Promise((r) => setTimeout(r, 50));
    expect(seen).toHaveLength(2);
  });

  it("events naming a host other than primaryHostname: split brain", async () => {
    const { node: n } = await setup(
      "node-b",
      { stream: '{"type":"init","data":{"isPrimary":false,"hostname":"node-c"}}\n' },
      { role: "replica" },
    );
    expect(isSplitBrainError(refusal(n))).toBe(true);
    expect(n.primary).toBe("node-c");
  });
});

describe("tx events and TXIDs", () => {
  it("txid follows tx events without reading <db>-pos while connected", async () => {
    const { node: n, server: s, mount: m } = await setup("node-b", "replica", { role: "replica" });
    await waitFor(() => n.txid() === 4n, "tx from the stream");
    m.removeFile("db-pos");
    const seen: { db: string; txid: bigint }[] = [];
    n.on("tx", (tx) => seen.push(tx));
    await s.sendEvent({
      type: "tx",
      db: "db",
      data: {
        txID: "00000000000000ff",
        postApplyChecksum: "a2fc350afcb62d33",
        pageSize: 4096,
        commit: 2,
        timestamp: "2026-11-22T20:32:21.000Z",
      },
    });
    await waitFor(() => seen.some((tx) => tx.txid === 255n), "tx event");
    expect(seen.at(-1)).toEqual({ db: "db", txid: 255n });
    expect(n.txid()).toBe(255n);
    expect(n.txid("db")).toBe(255n);
  });
});

describe("createNode readiness", () => {
  it("resolves at init", async () => {
    const started = Date.now();
    const { node: n } = await setup("node-a", "primary", { role: "primary" });
    expect(Date.now() - started).toBeLessThan(2000);
    expect(n.source).toBe("events");
  });

  it("no API and no mount: resolves at the timeout, and the gate fails closed", async () => {
    const mount = standIns.mountAt({ role: "primary" });
    mount.remove();
    const settings = nodeSettings("node-a", mount.path, "127.0.0.1:1");
    const started = Date.now();
    const node = await standIns.create(settings, { logger: silent, readyTimeoutMs: 150, backoff: FAST });
    const took = Date.now() - started;
    expect(took).toBeGreaterThanOrEqual(140);
    expect(took).toBeLessThan(2000);
    expect((refusal(node) as NotPrimaryError).reason).toBe("unknown");
  });

  it("no API but a readable mount: resolves from the files without waiting for the timeout", async () => {
    const mount = standIns.mountAt({ role: "primary" });
    const settings = nodeSettings("node-a", mount.path, "127.0.0.1:1");
    const started = Date.now();
    const node = await standIns.create(settings, { logger: silent, readyTimeoutMs: 10_000, backoff: FAST });
    expect(Date.now() - started).toBeLessThan(2000);
    expect(node.source).toBe("files");
    node.gate.assertWritable();
  });

  it("a connected stream that never sends init: resolves at the timeout, answering from the files", async () => {
    const server = await standIns.serve({ stream: "" });
    const mount = standIns.mountAt({ role: "replica" });
    const settings = nodeSettings("node-b", mount.path, `127.0.0.1:${server.port}`);
    const started = Date.now();
    const node = await standIns.create(settings, { logger: silent, readyTimeoutMs: 200 });
    expect(Date.now() - started).toBeGreaterThanOrEqual(190);
    expect(server.openStreams).toBe(1);
    expect(node.source).toBe("files");
    expect((refusal(node) as NotPrimaryError).reason).toBe("replica");
  });

  it("openNode answers at once from the files, before the stream is up", async () => {
    const server = await standIns.serve({ fixture: "replica" });
    const mount = standIns.mountAt({ role: "primary" });
    const settings = nodeSettings("node-a", mount.path, `127.0.0.1:${server.port}`);
    const node = standIns.open(settings, { logger: silent });
    node.gate.assertWritable(); // files say primary
    await node.ready;
    expect(node.source).toBe("events");
    expect(isNotPrimaryError(refusal(node))).toBe(true); // the stream says replica
  });

  it("close() closes the stream; the gate then answers from the files", async () => {
    const { node: n, server: s } = await setup("node-a", "primary", { role: "replica" });
    n.gate.assertWritable();
    await n.close();
    await waitFor(() => s.openStreams === 0, "stream closed");
    expect(n.source).toBe("files");
    expect(isNotPrimaryError(refusal(n))).toBe(true);
    const requests = s.eventsRequests;
    await new Promise((r) => setTimeout(r, 100));
    expect(s.eventsRequests).toBe(requests);
  });
});
