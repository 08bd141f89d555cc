// The election's side of "who may write": it does not decide alone (LiteFS holds the actual
// lease), it checks LiteFS's view against what the election says. A contradiction is split brain.
//   static: primaryHostname is primary for good (LiteFS static lease, candidate on that node only).
//   raft:   for now LiteFS's own view is taken as is; the Raft lease service will plug in here
//           as a second ElectionView (its published leader and lease deadline), with `subscribe`
//           telling the node to re-judge when that view changes.
import type { LiteFSSettings } from "../config/index.js";
import type { LiteFSView } from "../litefs/view.js";

export interface Contradiction {
  /** What disagrees, in words (goes into SplitBrainError.reason and the log). */
  readonly reason: string;
  /** The node the election says is primary, or null when it names none. */
  readonly primary: string | null;
}

export interface ElectionView {
  readonly kind: "static" | "raft";
  /** Why LiteFS's view contradicts this election, or null when it does not. Must be cheap and pure. */
  contradiction(view: LiteFSView): Contradiction | null;
  /** Elections whose own view changes over time call `listener` then; returns an unsubscribe. */
  subscribe?(listener: () => void): () => void;
}

/** Static lease: `primaryHostname` is the primary; LiteFS saying otherwise is split brain. */
export function staticElection(nodeId: string, primaryHostname: string): ElectionView {
  const selfIsPrimary = nodeId === primaryHostname;
  return {
    kind: "static",
    contradiction(view) {
      if (view.kind === "primary" && !selfIsPrimary) {
        return { reason: `LiteFS says node "${nodeId}" is primary but primaryHostname is "${primaryHostname}"`, primary: primaryHostname };
      }
      if (view.kind === "replica" && view.primary !== primaryHostname) {
        return { reason: `LiteFS names "${view.primary}" as primary but primaryHostname is "${primaryHostname}"`, primary: primaryHostname };
      }
      return null;
    },
  };
}

/** Raft mode until the lease service publishes its state: LiteFS (through the consul lease) decides alone. */
export function litefsOnlyElection(): ElectionView {
  return { kind: "raft", contradiction: () => null };
}

/** The election view the settings describe. Requires nodeId and, for static, primaryHostname. */
export function electionForSettings(settings: LiteFSSettings): ElectionView {
  if (settings.leaderElection === "raft") return litefsOnlyElection();
  if (!settings.nodeId || !settings.primaryHostname) {
    throw new TypeError("static leader election needs settings.nodeId and settings.primaryHostname (use loadSettings())");
  }
  return staticElection(settings.nodeId, settings.primaryHostname);
}
