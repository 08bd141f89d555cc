import { EventEmitter } from "node:events";
import { describe, expect, it } from "vitest";
import { NotPrimaryError, SplitBrainError } from "../../src/errors.js";
import { createMetrics, defaultMetrics, recordRefusal, recordRefusalError } from "../../src/health/metrics.js";
import type { RaftSnapshot } from "../../src/health/node-view.js";
import type { Role } from "../../src/node/node-state.js";

/** Parses Prometheus text exposition into "name{labels}" -> value (labels in the order written). */
function parseExposition(text: string): Map<string, number> {
  const samples = new Map<string, number>();
  for (const line of text.split("\n")) {
    if (line === "" || line.startsWith("#")) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})? (\S+)$/.exec(line);
    if (!m) throw new Error(`not a sample line: ${line}`);
    samples.set(`${m[1]}${m[2] ?? ""}`, Number(m[3]));
  }
  return samples;
}

class Node extends EventEmitter {
  role: Role = "replica";
  primary: string | null = "node-a";
  splitBrain = false;
  lagMs: number | null = 281;
  position: bigint | null = 4n;
  txid(): bigint | null {
    return this.position;
  }
}

describe("metrics", () => {
  it("exposes role, lag, TXID and split brain read at scrape time", async () => {
    const metrics = createMetrics();
    const node = new Node();
    metrics.observeNode(node, { db: "db" });
    let s = parseExposition(await metrics.render());
    expect(s.get('litefs_node_role{role="primary"}')).toBe(0);
    expect(s.get('litefs_node_role{role="replica"}')).toBe(1);
    expect(s.get("litefs_node_primary_known")).toBe(1);
    expect(s.get("litefs_node_lag_seconds")).toBeCloseTo(0.281);
    expect(s.get('litefs_node_txid{db="db"}')).toBe(4);
    expect(s.get("litefs_node_split_brain")).toBe(0);
    expect(s.has("litefs_node_raft_term")).toBe(false);

    node.role = "primary";
    node.lagMs = null;
    node.position = 9n;
    s = parseExposition(await metrics.render());
    expect(s.get('litefs_node_role{role="primary"}')).toBe(1);
    expect(s.get("litefs_node_lag_seconds")).toBeNaN();
    expect(s.get('litefs_node_txid{db="db"}')).toBe(9);
  });

  it("counts split-brain episodes from events and from scrapes, once per episode", async () => {
    const metrics = createMetrics();
    const node = new Node();
    const detach = metrics.observeNode(node);
    node.emit("role-change", { splitBrain: true });
    node.emit("split-brain", new SplitBrainError({ nodeId: "node-b", primary: "node-a", reason: "test" }));
    node.emit("role-change", { splitBrain: false });
    node.emit("split-brain", new SplitBrainError({ nodeId: "node-b", primary: "node-a", reason: "test" }));
    node.splitBrain = true; // still in the second episode at scrape time
    const s = parseExposition(await metrics.render());
    expect(s.get("litefs_node_split_brain_episodes_total")).toBe(2);
    expect(s.get("litefs_node_split_brain")).toBe(1);
    detach();
    expect(node.listenerCount("role-change")).toBe(0);
    expect(node.listenerCount("split-brain")).toBe(0);
  });

  it("counts refusals by reason and forwarded requests by outcome", async () => {
    const metrics = createMetrics();
    metrics.recordRefusal("replica");
    metrics.recordRefusal("replica");
    metrics.recordRefusal("split-brain");
    metrics.recordForward("forwarded");
    metrics.recordForward("primary-unreachable");
    metrics.recordTxidWait("timeout");
    const s = parseExposition(await metrics.render());
    expect(s.get('litefs_node_write_refusals_total{reason="replica"}')).toBe(2);
    expect(s.get('litefs_node_write_refusals_total{reason="split-brain"}')).toBe(1);
    expect(s.get('litefs_node_forwarded_requests_total{outcome="forwarded"}')).toBe(1);
    expect(s.get('litefs_node_forwarded_requests_total{outcome="primary-unreachable"}')).toBe(1);
    expect(s.get('litefs_node_txid_waits_total{outcome="timeout"}')).toBe(1);
  });

  it("feeds the raft gauges from a source", async () => {
    const metrics = createMetrics();
    let snapshot: RaftSnapshot | null = { term: 7, leader: "node-a", leaderChanges: 3, leaseHolder: "node-a" };
    metrics.observeRaft({ raftSnapshot: () => snapshot });
    let s = parseExposition(await metrics.render());
    expect(s.get("litefs_node_raft_term")).toBe(7);
    expect(s.get("litefs_node_raft_leader_changes")).toBe(3);
    expect(s.get('litefs_node_raft_lease_holder{holder="node-a"}')).toBe(1);
    snapshot = { term: 8, leader: "node-b", leaderChanges: 4, leaseHolder: "node-b" };
    s = parseExposition(await metrics.render());
    expect(s.has('litefs_node_raft_lease_holder{holder="node-a"}')).toBe(false);
    expect(s.get('litefs_node_raft_lease_holder{holder="node-b"}')).toBe(1);
    snapshot = null;
    s = parseExposition(await metrics.render());
    expect(s.get("litefs_node_raft_term")).toBeNaN();
    expect(s.has('litefs_node_raft_lease_holder{holder="node-b"}')).toBe(false);
  });

  it("the driver hooks land in the process-wide metrics", async () => {
    recordRefusal("no-primary");
    recordRefusalError(new NotPrimaryError({ nodeId: "node-b", primary: null, reason: "unknown" }));
    recordRefusalError(new SplitBrainError({ nodeId: "node-b", primary: "node-a", reason: "x" }));
    recordRefusalError(new Error("not ours"));
    const s = parseExposition(await defaultMetrics().render());
    expect(s.get('litefs_node_write_refusals_total{reason="no-primary"}')).toBe(1);
    expect(s.get('litefs_node_write_refusals_total{reason="unknown"}')).toBe(1);
    expect(s.get('litefs_node_write_refusals_total{reason="split-brain"}')).toBe(1);
    expect(defaultMetrics()).toBe(defaultMetrics());
  });

  it("two metric sets never collide (own registries)", async () => {
    const a = createMetrics();
    const b = createMetrics();
    a.recordForward("loop");
    expect(parseExposition(await b.render()).has('litefs_node_forwarded_requests_total{outcome="loop"}')).toBe(false);
  });
});
