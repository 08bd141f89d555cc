// The election's side of "who may write": it does not decide alone (LiteFS holds the actual
// lease), it checks LiteFS's view against what the election says. A contradiction is split brain.
//   static: primaryHostname is primary for good (LiteFS static lease, candidate on that node only).
//   consul: LiteFS keeps its own lease in the user's Consul; its view is the election, so nothing
//           can contradict it here (see consulElection for what that leaves uncovered).
//   raft:   LiteFS's view must be backed by the lease service's published state (this node holds
//           the lease, its deadline has not passed, quorum contact is recent): see
//           lease/raft-election.ts. `subscribe` tells the node to re-judge when that state changes.
import type { LiteFSSettings } from "../config/index.js";
import type { LiteFSView } from "../litefs/view.js";
import { leaseStatePath } from "../lease/published-state.js";
import { raftLeaseElection } from "./raft-election.js";

export interface Contradiction {
  /** What disagrees, in words (goes into SplitBrainError.reason and the log). */
  readonly reason: string;
  /** The node the election says is primary, or null when it names none. */
  readonly primary: string | null;
}

export interface ElectionView {
  readonly kind: "static" | "raft" | "consul";
  /** Why LiteFS's view contradicts this election, or null when it does not. Must be cheap and pure. */
  contradiction(view: LiteFSView): Contradiction | null;
  /** Elections whose own view changes over time call `listener` then; returns an unsubscribe. */
  subscribe?(listener: () => void): () => void;
  /**
   * For a view just judged writable: the `performance.now()` time (ms) after which that verdict
   * may no longer hold by the passage of time alone (a lease deadline). The gate re-judges on the
   * first write after it, so even a synchronous write loop that never yields to timers stops at
   * the deadline. Omitted: the verdict holds until the view or the election changes.
   */
  writableUntilMs?(view: LiteFSView): number;
  /**
   * For a primary view that is not a contradiction: a reason this node must still not write for
   * now, without any disagreement (a planned handoff draining the writers). Must be cheap.
   */
  primaryRefusal?(view: LiteFSView): PrimaryRefusal | null;
}

/** A primary that must not write for a moment (NotPrimaryError, not split brain). */
export interface PrimaryRefusal {
  readonly reason: "handoff";
  /** The node the primary is moving to, when known. */
  readonly primary: string | null;
  readonly detail: string;
}

/** Static lease: `primaryHostname` is the primary; LiteFS saying otherwise is split brain. */
export function staticElection(nodeId: string, primaryHostname: string): ElectionView {
  const selfIsPrimary = nodeId === primaryHostname;
  return {
    kind: "static",
    contradiction(view) {
      if (view.kind === "primary" && !selfIsPrimary) {
        return {
          reason: `LiteFS says node "${nodeId}" is primary but primaryHostname is "${primaryHostname}"`,
          primary: primaryHostname,
        };
      }
      if (view.kind === "replica" && view.primary !== primaryHostname) {
        return {
          reason: `LiteFS names "${view.primary}" as primary but primaryHostname is "${primaryHostname}"`,
          primary: primaryHostname,
        };
      }
      return null;
    },
  };
}

/**
 * consul mode: LiteFS holds the lease in Consul itself, and its view (/events, the mount files) is
 * the only one this node has, so it is authoritative: the gate follows it and never reports split
 * brain. What that leaves open is LiteFS's own gap: a primary paused longer than about 2 × TTL (GC,
 * SIGSTOP, a frozen VM) may still take writes for a moment after it resumes, until its next renew
 * fails and it demotes (LiteFS has no fencing token). The raft mode's lease deadline closes that gap; consul mode cannot.
 */
const consulElection: ElectionView = Object.freeze({
  kind: "consul",
  contradiction: () => null,
});

/** The election view the settings describe. Requires nodeId and, for static, primaryHostname. */
export function electionForSettings(settings: LiteFSSettings): ElectionView {
  // Raft: LiteFS saying "primary" counts only while the lease service (same host) backs it; with
  // no published state the gate fails closed.
  if (settings.leaderElection === "raft") return raftLeaseElection({ statePath: leaseStatePath(settings.mountPath) });
  if (settings.leaderElection === "consul") return consulElection;
  if (!settings.nodeId || !settings.primaryHostname) {
    throw new TypeError(
      "static leader election needs settings.nodeId and settings.primaryHostname (use loadSettings())",
    );
  }
  return staticElection(settings.nodeId, settings.primaryHostname);
}
