import { describe, expect, it } from "vitest";
import { healthReport, healthStatusCode } from "../../src/health/status.js";
import type { NodeStateView } from "../../src/health/node-view.js";

function view(overrides: Partial<Omit<NodeStateView, "txid">> & { txid?: bigint | null } = {}): NodeStateView {
  const { txid = 4n, ...rest } = overrides;
  return {
    role: "replica",
    primary: "node-a",
    splitBrain: false,
    lagMs: 281,
    settings: { enabled: true, leaderElection: "static", nodeId: "node-b", databaseName: "db" },
    txid: () => txid,
    ...rest,
  };
}

describe("healthReport", () => {
  it("a replica in sync is healthy: 200 with the contract's fields", () => {
    const report = healthReport({ node: view() });
    expect(report).toMatchObject({
      role: "replica",
      primary: "node-a",
      txid: "0000000000000004",
      lagMs: 281,
      splitBrain: false,
      election: { mode: "static" },
      healthy: true,
      problems: [],
    });
    expect(healthStatusCode(report)).toBe(200);
  });

  it("split brain is 503", () => {
    const report = healthReport({ node: view({ splitBrain: true, role: "primary", primary: "node-b" }) });
    expect(healthStatusCode(report)).toBe(503);
    expect(report.problems.join()).toMatch(/split brain/);
  });

  it("no known primary is 503", () => {
    const report = healthReport({ node: view({ primary: null }) });
    expect(healthStatusCode(report)).toBe(503);
    expect(report.problems).toEqual(["no primary is known"]);
  });

  it("lag over the threshold is 503 on a replica; LiteFS's pre-sync 2147483647 too", () => {
    expect(healthStatusCode(healthReport({ node: view({ lagMs: 1500 }), maxLagMs: 1000 }))).toBe(503);
    expect(healthStatusCode(healthReport({ node: view({ lagMs: 2147483647 }) }))).toBe(503);
    expect(healthStatusCode(healthReport({ node: view({ lagMs: 1500 }), maxLagMs: null }))).toBe(200);
    const never = healthReport({ node: view({ lagMs: Number.POSITIVE_INFINITY }) }); // LiteFSNode's never-synced
    expect(healthStatusCode(never)).toBe(503);
    expect(never.lagMs).toBe(2147483647);
    expect(never.problems).toEqual(["this replica has never synced with a primary"]);
    expect(healthStatusCode(healthReport({ node: view({ lagMs: null }) }))).toBe(200);
  });

  it("reports the election: dev mode, and raft facts when a source is given", () => {
    const dev = healthReport({
      node: view({
        role: "primary",
        primary: null,
        settings: { enabled: false, leaderElection: "static", nodeId: null, databaseName: "db" },
      }),
    });
    expect(dev.election).toEqual({ mode: "dev" });
    expect(healthStatusCode(dev)).toBe(200); // dev mode has no primary to know, and is healthy
    const raft = healthReport({
      node: view({ settings: { enabled: true, leaderElection: "raft", nodeId: "node-b", databaseName: "db" } }),
      raft: { raftSnapshot: () => ({ term: 3, leader: "node-a", leaderChanges: 2, leaseHolder: "node-a" }) },
    });
    expect(raft.election).toEqual({ mode: "raft", term: 3, leader: "node-a", leaderChanges: 2, leaseHolder: "node-a" });
    expect(healthReport({ node: view({ txid: null }) }).txid).toBeNull();
  });
});
