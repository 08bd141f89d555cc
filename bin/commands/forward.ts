// `litefs-node forward` (formerly `proxy`): the write-forwarding proxy in front of this node's app,
// configured by LITEFS_FORWARD_* (LITEFS_PROXY_* are LiteFS's own proxy, rendered into litefs.yml). Runs until SIGINT
// or SIGTERM, then stops accepting, closes its connections and the LiteFS node, and exits 0.
import { loadSettings } from "../../src/config/index.js";
import { ConfigError } from "../../src/errors.js";
import type { LiteFSSettings } from "../../src/config/types.js";
import { openNode, type LiteFSNode } from "../../src/node/node.js";
import { leaseStatePath } from "../../src/lease/published-state.js";
import { raftLeaseElection } from "../../src/election/raft-election.js";
import { createForwardingProxy, type ForwardingProxy } from "../../src/forward/proxy.js";
import { positionFileTxid } from "../../src/forward/position.js";
import { loadForwardSettings, type ForwardSettings, type ForwardSettingsInput } from "../../src/forward/settings.js";
import { defaultMetrics } from "../../src/health/metrics.js";
import { HEALTH_PATH, METRICS_PATH } from "../../src/health/endpoints.js";
import { createDefaultLogger, type Logger } from "../../src/logger.js";
import { fail, parseCommandArgs, waitForStopSignal } from "./args.js";

const HELP = `Usage: litefs-node forward [--listen ADDR] [--upstream URL] [--target TEMPLATE] [--hosts MAP]

Runs the write-forwarding HTTP proxy in front of this node's app (or in front of LiteFS's proxy,
which LITEFS_PROXY_* configure). Formerly \`litefs-node proxy\` (still accepted, with a warning). Reads
pass through; a write (any method but GET/HEAD/OPTIONS, and always-forward paths) arriving on a
replica is forwarded to the primary's app and its answer streamed back. Fly-Replay answers from
LiteFS's proxy are replayed to the instance they name. Responses to writes carry the primary's
TXID (header LiteFS-TXID, cookie __txid); a read that sends it back waits until this replica has
caught up. Also serves ${HEALTH_PATH} and ${METRICS_PATH}. Stops on SIGINT/SIGTERM.

Options (each overrides its environment variable):
  --listen ADDR        LITEFS_FORWARD_LISTEN        where to listen, "host:port" or ":port" (default :8079)
  --upstream URL       LITEFS_FORWARD_UPSTREAM      the local app, e.g. http://127.0.0.1:8081 (required)
  --target TEMPLATE    LITEFS_FORWARD_TARGET        the primary's app, {host} = primary hostname,
                                                    e.g. http://{host}:8080
  --hosts MAP          LITEFS_FORWARD_HOSTS         explicit map, e.g. node-a=http://10.0.0.1:8080,node-b=...
                                                    (one of --target/--hosts is required; with a map,
                                                    only its hosts are reachable)
Environment only:
  LITEFS_FORWARD_BODY_LIMIT      largest buffered (write) request body (default 10MiB; over it: 413)
  LITEFS_FORWARD_BODY_BUDGET     write bodies buffered at once, all requests together (default 64MiB)
  LITEFS_FORWARD_MAX_REQUESTS    requests handled at once (default 1024)
  LITEFS_FORWARD_MAX_TXID_WAITS  reads waiting for a TXID at once (default 256)
  LITEFS_FORWARD_MAX_UPGRADES    upgraded connections (WebSockets) open at once (default 1024)
                                 (past any of these four: 503 with Retry-After)
  LITEFS_FORWARD_TRUSTED_PROXIES IPs/CIDR blocks whose X-Forwarded-* are kept (default none:
                                 a client's X-Forwarded-For/-Host/-Proto are overwritten)
  LITEFS_FORWARD_ALWAYS          comma-separated path prefixes always sent to the primary
  LITEFS_FORWARD_RYW_TIMEOUT     how long a read waits for its TXID (default 5s)
  LITEFS_FORWARD_RYW_MODE        after that: "504" (default) or "forward" (read from the primary)
  LITEFS_FORWARD_DB              database whose TXID is tracked (default LITEFS_DATABASE)
  LITEFS_FORWARD_HEALTH_MAX_LAG  health answers 503 on a replica lagging more (default 10s)
The LiteFS node itself is configured by the LITEFS_* settings (see \`litefs-node config --help\`).
`;

export async function forwardCommand(argv: string[]): Promise<number> {
  const overrides = parseForwardArgs(argv);
  if (typeof overrides === "number") return overrides;
  const loaded = loadAllSettings(overrides);
  if (typeof loaded === "string") return fail(loaded);
  const { settings, forward, logger } = loaded;
  const { node, proxy, detach } = wireProxy(settings, forward, logger);

  const stopped = waitForStopSignal();
  let bound;
  try {
    bound = await proxy.listen();
  } catch (error) {
    detach();
    await node.close();
    return fail(
      `cannot listen on ${forward.listen} (LITEFS_FORWARD_LISTEN): ${error instanceof Error ? error.message : String(error)}`,
    );
  }
  await node.ready;
  process.stdout.write(
    `litefs-node forward: listening on ${bound.url} -> app ${forward.upstream}; node ${settings.nodeId ?? "(dev mode)"} is ${node.role}` +
      `${node.primary ? `, primary ${node.primary}` : ""}\n`,
  );
  const signal = await stopped;
  logger.info({ signal }, "litefs-node forward: stopping");
  await proxy.close();
  detach();
  await node.close();
  process.stdout.write(`litefs-node forward: stopped (${signal})\n`);
  return 0;
}

/** The command line's overrides of LITEFS_FORWARD_*, or the exit code (--help, a usage error). */
function parseForwardArgs(argv: string[]): ForwardSettingsInput | number {
  const parsed = parseCommandArgs(
    argv,
    { listen: { type: "string" }, upstream: { type: "string" }, target: { type: "string" }, hosts: { type: "string" } },
    HELP,
  );
  if (typeof parsed === "number") return parsed;
  const overrides: ForwardSettingsInput = {};
  if (parsed.values.listen !== undefined) overrides.listen = parsed.values.listen;
  if (parsed.values.upstream !== undefined) overrides.upstream = parsed.values.upstream;
  if (parsed.values.target !== undefined) overrides.target = parsed.values.target;
  if (parsed.values.hosts !== undefined) overrides.hosts = parsed.values.hosts;
  return overrides;
}

/**
 * The node's, the proxy's and the logger's settings, or one message with every problem: both
 * setting groups are checked before anything starts, so a user fixes them all in one go.
 */
function loadAllSettings(
  overrides: ForwardSettingsInput,
): { settings: LiteFSSettings; forward: ForwardSettings; logger: Logger } | string {
  const issues: ConfigError["issues"][number][] = [];
  const attempt = <T>(load: () => T): T | null => {
    try {
      return load();
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      issues.push(...error.issues);
      return null;
    }
  };
  const settings = attempt(() => loadSettings());
  const forward = attempt(() => loadForwardSettings(overrides, process.env));
  const logger = attempt(() => createDefaultLogger());
  if (!settings || !forward || !logger) return new ConfigError(issues).message;
  return { settings, forward, logger };
}

/** Opens the node, its metrics and the proxy (not listening yet); detach() undoes all but the node. */
function wireProxy(
  settings: LiteFSSettings,
  forward: ForwardSettings,
  logger: Logger,
): { node: LiteFSNode; proxy: ForwardingProxy; detach: () => void } {
  const db = forward.db ?? settings.databaseName;
  // Raft mode: one view of the lease service's published state both gates the node and feeds the
  // raft metrics and health fields.
  const raft =
    settings.enabled && settings.leaderElection === "raft"
      ? raftLeaseElection({ statePath: leaseStatePath(settings.mountPath) })
      : null;
  const node = openNode(settings, { logger, ...(raft ? { election: raft } : {}) });
  const metrics = defaultMetrics();
  const detachNode = metrics.observeNode(node, { db });
  const detachRaft = raft ? metrics.observeRaft(raft) : () => undefined;
  const detach = (): void => {
    detachNode();
    detachRaft();
    raft?.close();
  };
  const proxy = createForwardingProxy({
    node,
    settings: forward,
    db,
    nodeId: settings.nodeId,
    metrics,
    health: raft ? { raft } : true,
    currentTxid: latestTxid(node, settings),
    logger,
  });
  return { node, proxy, detach };
}

/**
 * The TXID after a write: the newer of the node's tx events and `<db>-pos`. The position file is
 * written at commit; the tx event may trail it a moment.
 */
function latestTxid(node: LiteFSNode, settings: LiteFSSettings): (name: string) => bigint | null {
  const fromFile = settings.enabled ? positionFileTxid(settings.mountPath) : null;
  return (name) => {
    const fromEvents = node.txid(name);
    const fromPos = fromFile?.(name) ?? null;
    if (fromEvents === null) return fromPos;
    return fromPos !== null && fromPos > fromEvents ? fromPos : fromEvents;
  };
}
