// `litefs-node status [--json]`: what this node knows about the cluster, right now.
import { loadSettings } from "../../src/config/index.js";
import { createNode } from "../../src/node/node.js";
import { lagMsForJson } from "../../src/litefs/mount-files.js";
import { formatTxid } from "../../src/litefs/txid.js";
import { raftLeaseStatus, type RaftLeaseStatus } from "../../src/election/raft-status.js";
import { durationArgMs, parseCommandArgs, usageError } from "./args.js";

const HELP = `Usage: litefs-node status [--json] [--timeout DURATION]

Prints this node's role, the primary, the database TXID, replication lag, the election mode and
whether the cluster is in split brain; in raft mode also the Raft term, leader, lease holder
and this node's write gate. Exit code 0 when healthy (and in dev mode), 1 when split brain or
no primary is known.

Options:
  --json               one JSON object instead of the table; lagMs as in /litefs-node/health
                       (2147483647 on a replica that never synced, null when unknown)
  --timeout DURATION   how long to wait for LiteFS's /events stream before answering from the
                       mount files (default 2s; Go duration or seconds)
`;

export interface StatusReport {
  nodeId: string | null;
  role: string;
  primary: string | null;
  txid: string | null;
  /** ms; 2147483647 on a replica that never synced (lagMsForJson); null when unknown. */
  lagMs: number | null;
  election: string;
  splitBrain: boolean;
  database: string;
  /** Raft mode only: what the lease service on this host publishes. */
  raft: RaftLeaseStatus | null;
}

export async function statusCommand(argv: string[]): Promise<number> {
  const parsed = parseCommandArgs(argv, { json: { type: "boolean" }, timeout: { type: "string" } }, HELP);
  if (typeof parsed === "number") return parsed;
  const timeoutMs = durationArgMs("--timeout", parsed.values.timeout ?? "2s");
  if (typeof timeoutMs === "string") return usageError(HELP, timeoutMs);
  const settings = loadSettings();
  const node = await createNode(settings, { readyTimeoutMs: timeoutMs });
  try {
    // A dead mount (LiteFS down) makes <db>-pos unreadable: the TXID is then unknown, not an error.
    const txid = node.role === "unknown" ? null : node.txid();
    const lagMs = node.lagMs; // Infinity: never synced
    const report: StatusReport = {
      nodeId: settings.nodeId,
      role: node.role,
      primary: node.primary,
      txid: txid === null ? null : formatTxid(txid),
      // The same number /health reports (2147483647 when never synced); the text says "never synced".
      lagMs: lagMsForJson(lagMs),
      election: settings.enabled ? settings.leaderElection : "dev",
      splitBrain: node.splitBrain,
      database: settings.databaseName,
      raft: settings.enabled && settings.leaderElection === "raft" ? raftLeaseStatus(settings) : null,
    };
    if (parsed.values.json) {
      process.stdout.write(`${JSON.stringify(report)}\n`);
    } else {
      const rows: [string, string][] = [
        ["node", report.nodeId ?? "(dev mode)"],
        [
          "role",
          report.role === "unknown"
            ? "unknown (cannot read LiteFS's state: is LiteFS running? see litefs-node check)"
            : report.role,
        ],
        ["primary", report.primary ?? "(none known)"],
        ["database", report.database],
        ["txid", report.txid ?? "(unknown)"],
        [
          "lag",
          lagMs === Number.POSITIVE_INFINITY
            ? "never synced"
            : report.lagMs === null
              ? "(unknown)"
              : `${report.lagMs} ms`,
        ],
        ["election", report.election],
        ["split brain", report.splitBrain ? "YES: writes are refused" : "no"],
      ];
      const raft = report.raft;
      if (raft) {
        rows.push(
          ["raft term", raft.term === null ? "(unknown)" : String(raft.term)],
          ["raft leader", raft.leader ?? "(none known)"],
          ["lease holder", raft.leaseHolder ?? "(none)"],
          ["write gate", raft.gate === "open" ? "open" : `closed: ${raft.problem ?? "unknown"}`],
        );
      }
      for (const [k, v] of rows) process.stdout.write(`${k.padEnd(14)}${v}\n`);
    }
    // Dev mode has no cluster: nothing to be unhealthy about.
    if (!settings.enabled) return 0;
    return report.splitBrain || report.primary === null ? 1 : 0;
  } finally {
    await node.close();
  }
}
