// The slice of a LiteFSNode (src/node/node.ts) that health, metrics and the forwarding proxy
// read. Structural, so tests and other callers can hand in anything with the same shape.

import type { RaftSnapshot } from "../election/raft-election.js";
import type { Role } from "../node/node-state.js";
import type { TxNotice } from "../node/node.js";

export type { RaftSnapshot } from "../election/raft-election.js";

/** State read on demand (a health probe, a scrape, a request). */
export interface NodeStateView {
  readonly role: Role;
  /** The primary's hostname (self when primary), null when none is known. */
  readonly primary: string | null;
  readonly splitBrain: boolean;
  readonly lagMs: number | null;
  txid(db?: string): bigint | null;
  /**
   * Role, primary and split brain judged together (a LiteFSNode has it). Each of the three getters
   * judges the state anew, so a caller that needs more than one reads this once instead.
   */
  snapshot?(): { readonly role: Role; readonly primary: string | null; readonly splitBrain: boolean };
  /** Present on a LiteFSNode; tells the election mode and the node's name. */
  readonly settings?: {
    readonly enabled: boolean;
    readonly leaderElection: string;
    readonly nodeId: string | null;
    readonly databaseName: string;
  };
}

/** State plus the pushed events (role changes carry the split-brain flag; tx events the position). */
export interface NodeEventsView extends NodeStateView {
  on(event: "role-change", fn: (snapshot: { readonly splitBrain: boolean }) => void): unknown;
  on(event: "tx", fn: (tx: TxNotice) => void): unknown;
  on(event: "split-brain", fn: (error: Error) => void): unknown;
  on(event: "events-disconnect", fn: (notice: { readonly cause: "ended" | "error" }) => void): unknown;
  off(event: "role-change", fn: (snapshot: { readonly splitBrain: boolean }) => void): unknown;
  off(event: "tx", fn: (tx: TxNotice) => void): unknown;
  off(event: "split-brain", fn: (error: Error) => void): unknown;
  off(event: "events-disconnect", fn: (notice: { readonly cause: "ended" | "error" }) => void): unknown;
}

export interface RaftMetricsSource {
  raftSnapshot(): RaftSnapshot | null;
}
