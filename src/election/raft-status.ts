// Raft-mode facts for `litefs-node status` and health/metrics, read from the lease state file
// the lease service publishes next to the mount (so any process on the host can report them).
import type { LiteFSSettings } from "../config/index.js";
import { leaseProblem, leaseStatePath, readLeaseState, type LeaseStateReading } from "../lease/published-state.js";

export interface RaftLeaseStatus {
  /** False when no lease service state could be read (then only `problem` is meaningful). */
  readonly available: boolean;
  readonly term: number | null;
  /** The Raft leader's member id (its Raft address), null when none is known. */
  readonly leader: string | null;
  readonly role: string | null;
  /** The LiteFS hostname the lease key names (the primary the election names), null when free. */
  readonly leaseHolder: string | null;
  /** True when this node's LiteFS holds the lease. */
  readonly holder: boolean;
  /** Whether this node's write gate would let a LiteFS primary write now, and if not why. */
  readonly gate: "open" | "closed";
  readonly problem: string | null;
  readonly statePath: string;
}

export function raftLeaseStatus(
  settings: LiteFSSettings,
  nowNs: bigint = process.hrtime.bigint(),
  reading?: LeaseStateReading,
): RaftLeaseStatus {
  const statePath = leaseStatePath(settings.mountPath);
  const r = reading ?? readLeaseState(statePath);
  const problem = leaseProblem(r, nowNs);
  if (!r.ok)
    return {
      available: false,
      term: null,
      leader: null,
      role: null,
      leaseHolder: null,
      holder: false,
      gate: "closed",
      problem,
      statePath,
    };
  const s = r.state;
  return {
    available: true,
    term: s.raft.term,
    leader: s.raft.leader,
    role: s.raft.role,
    leaseHolder: s.primary,
    holder: s.holder,
    gate: problem === null ? "open" : "closed",
    problem,
    statePath,
  };
}
