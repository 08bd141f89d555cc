// `litefs-node lease-server`: the Raft lease service alone (sidecar style), for setups that start
// `litefs mount` themselves. Runs until SIGINT/SIGTERM.
import { goDurationToMs, loadSettings } from "../../src/config/index.js";
import { ConfigError } from "../../src/errors.js";
import { startLeaseService, type LeaseServiceOverrides } from "../../src/lease/lease-service.js";
import { createDefaultLogger } from "../../src/logger.js";
import { ABSOLUTE_MIN_TTL_MS } from "../../src/lease/limits.js";
import { fail, parseCommandArgs, USAGE_EXIT, waitForStopSignal } from "./args.js";

const HELP = `Usage: litefs-node lease-server [--http-port N] [--min-ttl DURATION]

Runs this node's member of the embedded Raft group and serves, on 127.0.0.1, the subset of
Consul's HTTP API that LiteFS's consul lease uses (point lease.consul.url at it; \`litefs-node
config\` renders that for leaderElection "raft"). Publishes this node's lease state next to the
mount for the write gate of the app processes. Prints one JSON line on stdout once listening.
Stops on SIGINT/SIGTERM.

Every request must carry this node's token (X-Consul-Token; LiteFS sends the password of
lease.consul.url: http://:TOKEN@127.0.0.1:8500, which \`litefs-node config\` renders). The token is
LITEFS_RAFT_LEASE_TOKEN when set (alias LITEFS_LEASE_TOKEN), else made at first start and kept
0600 in <raft.dataDir>/lease-token.

Settings: LITEFS_NODE_ID, LITEFS_LEADER_ELECTION=raft, LITEFS_RAFT_SELF_ADDR, LITEFS_RAFT_PEERS,
LITEFS_RAFT_SECRET, LITEFS_RAFT_LEASE_PORT, LITEFS_RAFT_LEASE_TOKEN, LITEFS_RAFT_DATA_DIR,
LITEFS_RAFT_BOOTSTRAP (first start of a new cluster only), LITEFS_MOUNT_PATH (the lease state
file goes next to it).
Options:
  --http-port N        listen on this port instead of raft.leasePort (0 = any free port)
  --min-ttl DURATION   refuse sessions with a shorter TTL (default 5s; lower only for tests)
`;

export function leaseOverridesFromArgs(values: {
  "http-port"?: string;
  "min-ttl"?: string;
}): LeaseServiceOverrides | string {
  const overrides: { -readonly [K in keyof LeaseServiceOverrides]: LeaseServiceOverrides[K] } = {};
  if (values["http-port"] !== undefined) {
    const port = Number(values["http-port"]);
    if (!Number.isInteger(port) || port < 0 || port > 65535)
      return `--http-port must be a port number, got ${JSON.stringify(values["http-port"])}`;
    overrides.httpPort = port;
  }
  if (values["min-ttl"] !== undefined) {
    const ms = goDurationToMs(values["min-ttl"]);
    if (ms === null || ms < ABSOLUTE_MIN_TTL_MS)
      return `--min-ttl must be a Go duration of at least ${ABSOLUTE_MIN_TTL_MS / 1000}s such as "5s", got ${JSON.stringify(values["min-ttl"])}`;
    overrides.minTtlMs = ms;
  }
  return overrides;
}

export async function leaseServerCommand(argv: string[]): Promise<number> {
  const parsed = parseCommandArgs(argv, { "http-port": { type: "string" }, "min-ttl": { type: "string" } }, HELP);
  if (typeof parsed === "number") return parsed;
  const overrides = leaseOverridesFromArgs(parsed.values);
  if (typeof overrides === "string") return fail(overrides, USAGE_EXIT);
  let settings;
  try {
    settings = loadSettings();
  } catch (e) {
    if (e instanceof ConfigError) return fail(e.message);
    throw e;
  }
  if (!settings.enabled || settings.leaderElection !== "raft") {
    return fail(
      `lease-server needs LITEFS_LEADER_ELECTION=raft (and LiteFS enabled); got ${settings.enabled ? `"${settings.leaderElection}"` : "dev mode"}`,
    );
  }
  const logger = createDefaultLogger();
  const stop = waitForStopSignal();
  let service;
  try {
    service = await startLeaseService(settings, { ...overrides, logger });
  } catch (e) {
    if (e instanceof ConfigError) return fail(e.message);
    throw e;
  }
  // The token's file, never the token.
  process.stdout.write(
    JSON.stringify({
      ready: true,
      httpPort: service.httpPort,
      raftPort: service.raftPort,
      forwardAddr: service.forwardAddr,
      statePath: service.statePath,
      tokenPath: service.tokenPath,
    }) + "\n",
  );
  const outcome = await Promise.race([stop.then((s) => ({ signal: s })), service.failed.then((e) => ({ error: e }))]);
  await service.close();
  if ("error" in outcome) return fail(`the Raft node stopped: ${outcome.error.message}`);
  logger.info({ signal: outcome.signal }, "lease service stopped");
  return 0;
}
