// A lease state as the lease service publishes it next to the mount: node-b holds the lease, with
// its deadline and quorum contact in the future; tests override what they are about.
import { leaseStatePath, writeLeaseState } from "../../../src/lease/published-state.js";
import type { PublishedLeaseState } from "../../../src/lease/types.js";

/** Nanoseconds on the monotonic clock `msFromNow` from now, as the state file writes them. */
export const nsFromNow = (msFromNow: number): string =>
  (process.hrtime.bigint() + BigInt(Math.round(msFromNow * 1e6))).toString();

export function publishedLeaseState(over: Partial<PublishedLeaseState> = {}): PublishedLeaseState {
  return {
    v: 1,
    pid: process.pid,
    node: "node-b",
    raftId: "node-b:7000",
    updatedNs: nsFromNow(0),
    leaseSession: "s-b",
    primary: "node-b",
    holder: true,
    refused: false,
    deadlineNs: nsFromNow(10_000),
    contactNs: nsFromNow(0),
    graceMs: 2000,
    raft: { term: 2, role: "follower", leader: "node-a:7000" },
    ...over,
  };
}

/**
 * Writes next to `mountPath` the state of node-b leading Raft term 7 and holding the lease, with
 * deadline and contact fresh for the rest of a test; returns the state file's path.
 */
export function writeLeaderLeaseState(mountPath: string): string {
  const path = leaseStatePath(mountPath);
  writeLeaseState(
    path,
    publishedLeaseState({
      deadlineNs: nsFromNow(60_000),
      contactNs: nsFromNow(30_000),
      graceMs: 60_000,
      raft: { term: 7, role: "leader", leader: "node-b:7000" },
    }),
  );
  return path;
}
