// `litefs-node handoff [--to NODE]`: move the LiteFS primary from this node to a caught-up replica
// without losing an acknowledged write (src/node/handoff.ts). Raft mode: the targets' LiteFS
// API URLs come from the member directory `litefs-node run` keeps in the lease service.
import { litefsApiUrl, loadSettings, type LiteFSSettings } from "../../src/config/index.js";
import { ConfigError } from "../../src/errors.js";
import { handoff, type HandoffResult, type HandoffTarget } from "../../src/node/handoff.js";
import { readDirectory } from "../../src/lease/node-directory.js";
import { existingLeaseToken } from "../../src/lease/token.js";
import { createDefaultLogger, type Logger } from "../../src/logger.js";
import { durationArgMs, fail, parseCommandArgs, usageError } from "./args.js";

const HELP = `Usage: litefs-node handoff [--to NODE] [--timeout DURATION] [--json]

Moves the LiteFS primary from this node to another node without losing an acknowledged write:
closes the write gate of this host's app processes (new writes get NotPrimaryError, reason
"handoff"), waits for open write transactions, waits until the target has every transaction of
this primary, asks LiteFS to hand over (POST /promote on the target), and prints the new primary.
Writes are refused for the duration (typically well under a second). If anything fails before
LiteFS moves the primary, this node stays primary and writes resume at once. Raft mode only.

Options:
  --to NODE            the node to hand over to (default: the most caught-up reachable replica)
  --timeout DURATION   how long the target may take to catch up (default 10s)
  --json               print the result as JSON
Exit codes: 0 handed over; 1 not handed over (the reason is printed); 2 usage.
`;

export interface SettingsHandoffOptions {
  readonly to?: string | null;
  readonly catchUpTimeoutMs?: number;
  readonly logger?: Logger;
}

/** Handoff for a node described by its settings (raft mode): targets from the member directory. */
export async function handoffFromSettings(
  settings: LiteFSSettings,
  options: SettingsHandoffOptions = {},
): Promise<HandoffResult> {
  if (!settings.enabled || settings.leaderElection !== "raft" || settings.raft === null) {
    throw new ConfigError([
      {
        setting: "leaderElection",
        env: "LITEFS_LEADER_ELECTION",
        message: "handoff needs raft mode (a static LiteFS lease cannot move)",
      },
    ]);
  }
  const leaseUrl = `http://127.0.0.1:${settings.raft.leasePort}`;
  const members = [settings.raft.selfAddr, ...settings.raft.peers];
  const { entries, problems } = await readDirectory(
    leaseUrl,
    existingLeaseToken(settings.raft)?.token ?? null,
    members,
  );
  let targets: HandoffTarget[] = entries.filter((e) => e.node !== settings.nodeId);
  if (options.to) {
    targets = targets.filter((t) => t.node === options.to);
    if (targets.length === 0) {
      const known = entries.map((e) => e.node).join(", ") || "none";
      throw new Error(
        `"${options.to}" is not a registered member (registered: ${known}${problems.length ? `; ${problems.join("; ")}` : ""})`,
      );
    }
  }
  if (targets.length === 0)
    throw new Error(`no other member is registered${problems.length ? `: ${problems.join("; ")}` : ""}`);
  return handoff({
    mountPath: settings.mountPath,
    databaseName: settings.databaseName,
    apiUrl: litefsApiUrl(settings),
    targets,
    ...(options.catchUpTimeoutMs !== undefined ? { catchUpTimeoutMs: options.catchUpTimeoutMs } : {}),
    ...(options.logger ? { logger: options.logger } : {}),
  });
}

export async function handoffCommand(argv: string[]): Promise<number> {
  const parsed = parseCommandArgs(
    argv,
    { to: { type: "string" }, timeout: { type: "string" }, json: { type: "boolean" } },
    HELP,
  );
  if (typeof parsed === "number") return parsed;
  const timeout = durationArgMs("--timeout", parsed.values.timeout ?? "10s");
  if (typeof timeout === "string") return usageError(HELP, timeout);
  let settings: LiteFSSettings;
  try {
    settings = loadSettings();
  } catch (e) {
    if (e instanceof ConfigError) return fail(e.message);
    throw e;
  }
  try {
    const result = await handoffFromSettings(settings, {
      to: parsed.values.to ?? null,
      catchUpTimeoutMs: timeout,
      logger: createDefaultLogger(),
    });
    process.stdout.write(
      parsed.values.json
        ? `${JSON.stringify(result)}\n`
        : `handoff: "${result.to}" is primary now (was "${result.from ?? settings.nodeId}"), TXID ${result.txid}; writes refused here for ${result.refusedMs} ms\n`,
    );
    return 0;
  } catch (error) {
    // Expected outcomes (not primary, no target, a timeout): one line, no stack trace.
    if (error instanceof Error) return fail(`handoff: ${error.message}`);
    throw error;
  }
}
