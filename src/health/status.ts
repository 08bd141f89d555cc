// The health verdict: one pure function over the node's state, shared by every framework glue.
import { lagMsForJson } from "../litefs/mount-files.js";
import { formatTxid } from "../litefs/txid.js";
import type { Role } from "../node/node-state.js";
import type { NodeStateView, RaftMetricsSource } from "./node-view.js";

export interface HealthElection {
  /** "static" | "raft" from the settings; "dev" when LiteFS is disabled; "unknown" without settings. */
  readonly mode: string;
  readonly term?: number;
  readonly leader?: string | null;
  readonly leaderChanges?: number;
  readonly leaseHolder?: string | null;
}

export interface HealthReport {
  readonly role: Role;
  readonly primary: string | null;
  /** 16 hex digits, like LiteFS; null when unknown. */
  readonly txid: string | null;
  /** ms; 2147483647 on a replica that never synced (lagMsForJson); null when unknown. */
  readonly lagMs: number | null;
  readonly splitBrain: boolean;
  readonly election: HealthElection;
  readonly healthy: boolean;
  /** Why the node is unhealthy (empty when healthy). */
  readonly problems: readonly string[];
}

export interface HealthOptions {
  readonly node: NodeStateView;
  /** A replica lagging more than this is unhealthy (default 10 000 ms); null disables the check. */
  readonly maxLagMs?: number | null;
  /** Database whose TXID is reported (default: the node's). */
  readonly db?: string;
  readonly raft?: RaftMetricsSource;
}

export const DEFAULT_MAX_LAG_MS = 10_000;

export function healthReport(options: HealthOptions): HealthReport {
  const { node } = options;
  const maxLagMs = options.maxLagMs === undefined ? DEFAULT_MAX_LAG_MS : options.maxLagMs;
  const role = node.role;
  const primary = node.primary;
  const splitBrain = node.splitBrain;
  const lagMs = node.lagMs;
  const txid = node.txid(options.db);

  const problems: string[] = [];
  if (splitBrain) problems.push("split brain: LiteFS and the election disagree about the primary");
  // Dev mode (LiteFS disabled) is always writable: there is no primary to know.
  const devMode = node.settings?.enabled === false;
  if (primary === null && !devMode) problems.push("no primary is known");
  // The primary's own lag is always 0; a replica's .lag counts from the last primary timestamp
  // (Infinity before the first sync).
  if (role === "replica" && maxLagMs !== null && lagMs !== null && lagMs > maxLagMs) {
    problems.push(
      lagMs === Number.POSITIVE_INFINITY
        ? "this replica has never synced with a primary"
        : `replication lag ${lagMs} ms exceeds ${maxLagMs} ms`,
    );
  }

  const mode = node.settings ? (node.settings.enabled ? node.settings.leaderElection : "dev") : "unknown";
  const raft = options.raft?.raftSnapshot() ?? null;
  const election: HealthElection = raft
    ? { mode, term: raft.term, leader: raft.leader, leaderChanges: raft.leaderChanges, leaseHolder: raft.leaseHolder }
    : { mode };

  return {
    role,
    primary,
    txid: txid === null ? null : formatTxid(txid),
    lagMs: lagMsForJson(lagMs),
    splitBrain,
    election,
    healthy: problems.length === 0,
    problems,
  };
}

/** 200 when healthy, 503 otherwise (what Docker Compose and Kubernetes probes look at). */
export function healthStatusCode(report: HealthReport): 200 | 503 {
  return report.healthy ? 200 : 503;
}
