// Public face of the Raft lease service (raft mode): the service entry, the write gate's
// election view, the lease state file, and status facts.
export { startLeaseService, raftClusterId, type RunningLeaseService, type LeaseServiceOverrides, type LeaseServiceStatus } from "../lease-service.js";
export { raftLeaseElection, type RaftLeaseElection, type RaftLeaseElectionOptions, type RaftLeaseSnapshot } from "./raft-election.js";
export { leaseStatePath, readLeaseState, leaseProblem, type LeaseStateReading } from "./published-state.js";
export { raftLeaseStatus, type RaftLeaseStatus } from "./status.js";
export type { PublishedLeaseState } from "./types.js";
