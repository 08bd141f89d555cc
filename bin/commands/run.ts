// `litefs-node run [-- <app command ...>]`: one node, start to finish.
//   1. render litefs.yml from the settings (the app command, after an optional migration step,
//      becomes LiteFS's exec) and write it 0600, never over a file litefs-node did not generate
//   2. clear a dead FUSE mount a LiteFS that died left at the mount path
//   3. raft mode: start the lease service and wait until it has joined its Raft group
//   4. start `litefs mount -config <file>` (LITEFS_BIN or `litefs` on PATH) in its own process group
//   5. forward signals to LiteFS; when LiteFS exits (on its own too: exit 99, 1, SIGKILL) stop what
//      is left of the app, stop the lease service and exit with LiteFS's code
// Nothing is restarted silently (let the container runtime or init system decide about restarts).

import { mkdirSync } from "node:fs";
import { dirname, isAbsolute, join } from "node:path";
import { loadSettings, type LiteFSSettings } from "../../src/config/index.js";
import { ConfigError } from "../../src/errors.js";
import { devModeReason } from "../../src/config/mode.js";
import {
  startLeaseService,
  type LeaseServiceOverrides,
  type RunningLeaseService,
} from "../../src/lease/lease-service.js";
import { resolveLeaseToken } from "../../src/lease/token.js";
import { registerMember } from "../../src/lease/node-directory.js";
import { createDefaultLogger, type Logger } from "../../src/logger.js";
import { findOnPath, isExecutableFile } from "../../src/litefs/executables.js";
import { clearStaleMount } from "../../src/litefs/stale-mount.js";
import { durationArgMs, fail, parseCommandArgs, usageError } from "./args.js";
import { leaseOverridesFromArgs } from "./lease-server.js";
import { runConfigText, shellJoin, writeRunConfig } from "./run-config.js";
import { startLitefs } from "./run-process.js";
import { endSessionsLeftByLitefs, superviseLitefs } from "./run-supervise.js";
import { onSignals } from "../../src/signals.js";

export { runConfigText, shellJoin } from "./run-config.js";

const HELP = `Usage: litefs-node run [options] [-- <app command ...>]

Runs this node: writes litefs.yml from the settings, clears a dead FUSE mount left by a LiteFS
that died, starts the Raft lease service (leaderElection "raft") and waits until it has joined
its Raft group, then starts \`litefs mount -config FILE\` with the app command as LiteFS's exec
(LiteFS starts it once this node is primary or connected to one). Signals (SIGINT, SIGTERM,
SIGHUP, SIGUSR1, SIGUSR2) are forwarded to LiteFS. When LiteFS exits, on its own too, whatever
is left of the app gets SIGTERM (SIGKILL after --stop-grace), the lease service stops and the
command exits with LiteFS's code. Nothing is restarted.

Options:
  --config FILE            where to write litefs.yml (default <dataPath>/litefs.yml); a file that
                           litefs-node did not generate is never overwritten
  --migrate COMMAND        run COMMAND (one shell-style string) before the app, on candidates only
                           (LiteFS exec list), e.g. --migrate "litefs-node migrate --drizzle ./drizzle"
  --join-timeout DURATION  give up when the Raft group is not joined in time (default 2m; 0 = never)
  --stop-grace DURATION    after LiteFS exited, how long the app gets between SIGTERM and SIGKILL (default 10s)
  --handoff-timeout DURATION
                           raft mode: on SIGTERM of the primary, first hand the primary over without
                           losing a write (\`litefs-node handoff\`); how long the target may take to
                           catch up (default 5s; 0 = no handoff, LiteFS just releases its lease)
  --http-port N, --min-ttl DURATION   as for \`litefs-node lease-server\`
Durations are Go durations ("90s", "2m", "500ms") or plain numbers of seconds.
Environment:
  LITEFS_BIN             the LiteFS binary (default: \`litefs\` on PATH)
  LITEFS_RAFT_LEASE_TOKEN  the lease service's token (default: made once, kept 0600 in
                         <raft.dataDir>/lease-token); it goes into lease.consul.url
`;

// SIGUSR1 included, unlike the migration runner's list: run stands in front of LiteFS, which
// passes signals on to the app, so an app that listens for SIGUSR1 must still get it.
const FORWARDED: NodeJS.Signals[] = ["SIGINT", "SIGTERM", "SIGHUP", "SIGUSR1", "SIGUSR2"];

/** The LiteFS executable, or a message saying why there is none. */
export function findLitefsBinary(env: NodeJS.ProcessEnv = process.env): { path: string } | { problem: string } {
  const explicit = env["LITEFS_BIN"];
  if (explicit) {
    return isExecutableFile(explicit)
      ? { path: explicit }
      : { problem: `LITEFS_BIN is "${explicit}", which is not an executable file` };
  }
  const onPath = findOnPath(["litefs"], env);
  if (onPath) return { path: onPath };
  return {
    problem:
      "no LiteFS binary found: `litefs` is not on PATH and LITEFS_BIN is not set. Install LiteFS (https://github.com/superfly/litefs/releases, Linux only; " +
      "in Docker: COPY --from=flyio/litefs:0.5 /usr/local/bin/litefs /usr/local/bin/litefs) or set LITEFS_BIN to its path",
  };
}

export async function runCommand(argv: string[]): Promise<number> {
  const args = parseRunArgs(argv);
  if (typeof args === "number") return args;
  const prepared = prepareRun(args);
  if (typeof prepared === "number") return prepared;
  const { settings, configPath, binary, token, log } = prepared;

  // Signals that arrive before LiteFS runs stop the start-up instead.
  const abort = new AbortController();
  const early = (signal: NodeJS.Signals): void => abort.abort(signal);
  const detachEarly = onSignals(FORWARDED, early);

  let lease: RunningLeaseService | null = null;
  if (settings.leaderElection === "raft") {
    try {
      lease = await startLeaseService(settings, {
        ...args.overrides,
        ...(token === null ? {} : { token }),
        logger: createDefaultLogger(),
      });
      await joinRaftGroup(lease, settings, token, args.joinTimeoutMs, abort.signal, log);
    } catch (e) {
      detachEarly();
      await lease?.close();
      if (abort.signal.aborted) return 128 + 15;
      return fail(`lease service: ${(e as Error).message}`);
    }
  }
  if (abort.signal.aborted) {
    detachEarly();
    await lease?.close();
    return 128 + 15;
  }

  const litefs = startLitefs(binary, ["mount", "-config", configPath], process.env);
  detachEarly();
  const code = await superviseLitefs({
    settings,
    litefs,
    lease,
    handoffTimeoutMs: args.handoffTimeoutMs,
    stopGraceMs: args.stopGraceMs,
    signals: FORWARDED,
    log,
  });
  // After LiteFS: it releases its lease through the service on a clean exit.
  await lease?.close();
  return code;
}

interface RunArgs {
  /** The app command after "--" (empty: LITEFS_EXEC or none). */
  readonly app: readonly string[];
  readonly config: string | undefined;
  readonly migrate: string | null;
  readonly joinTimeoutMs: number;
  readonly stopGraceMs: number;
  readonly handoffTimeoutMs: number;
  readonly overrides: LeaseServiceOverrides;
}

/** The command line, or the exit code when it was --help or wrong. */
function parseRunArgs(argv: string[]): RunArgs | number {
  const parsed = parseCommandArgs(
    argv,
    {
      config: { type: "string" },
      migrate: { type: "string" },
      "join-timeout": { type: "string" },
      "stop-grace": { type: "string" },
      "handoff-timeout": { type: "string" },
      "http-port": { type: "string" },
      "min-ttl": { type: "string" },
    },
    HELP,
    true,
  );
  if (typeof parsed === "number") return parsed;
  const { values, rest: app } = parsed;
  const joinTimeoutMs = durationArgMs("--join-timeout", values["join-timeout"] ?? "2m", { allowZero: true });
  if (typeof joinTimeoutMs === "string") return usageError(HELP, joinTimeoutMs);
  const stopGraceMs = durationArgMs("--stop-grace", values["stop-grace"] ?? "10s", { allowZero: true });
  if (typeof stopGraceMs === "string") return usageError(HELP, stopGraceMs);
  const handoffTimeoutMs = durationArgMs("--handoff-timeout", values["handoff-timeout"] ?? "5s", { allowZero: true });
  if (typeof handoffTimeoutMs === "string") return usageError(HELP, handoffTimeoutMs);
  const migrate = values.migrate ?? null;
  if (migrate !== null && migrate.trim() === "") return usageError(HELP, "--migrate needs a command");
  const overrides = leaseOverridesFromArgs(values);
  if (typeof overrides === "string") return usageError(HELP, overrides);
  return { app, config: values.config, migrate, joinTimeoutMs, stopGraceMs, handoffTimeoutMs, overrides };
}

interface PreparedRun {
  readonly settings: LiteFSSettings;
  readonly configPath: string;
  /** The LiteFS executable's path. */
  readonly binary: string;
  /** The lease service's token (raft mode), also written into litefs.yml. */
  readonly token: string | null;
  readonly log: Logger;
}

/**
 * Steps 1 and 2: settings, the LiteFS binary and token, litefs.yml written, a dead FUSE mount
 * cleared. The exit code when one of them fails.
 */
function prepareRun(args: RunArgs): PreparedRun | number {
  const { app, migrate } = args;
  let settings: LiteFSSettings;
  try {
    settings = loadSettings(app.length > 0 ? { exec: shellJoin(app) } : {});
  } catch (e) {
    if (e instanceof ConfigError) return fail(e.message);
    throw e;
  }
  if (!settings.enabled)
    return fail(`run needs LiteFS (${devModeReason(process.env)}); in dev mode run the app directly, without LiteFS`);
  if (migrate !== null && settings.exec === null) {
    return usageError(HELP, '--migrate runs before the app: give the app command after "--" (or LITEFS_EXEC)');
  }
  const binary = findLitefsBinary();
  if ("problem" in binary) return fail(binary.problem);

  const configPath = args.config ?? join(settings.dataPath, "litefs.yml");
  let token: string | null = null;
  try {
    if (settings.raft !== null) token = resolveLeaseToken(settings.raft).token;
  } catch (e) {
    if (e instanceof ConfigError) return fail(e.message);
    throw e;
  }
  mkdirSync(dirname(isAbsolute(configPath) ? configPath : join(process.cwd(), configPath)), { recursive: true });
  mkdirSync(settings.dataPath, { recursive: true });
  const refused = writeRunConfig(configPath, runConfigText(settings, { token, migrate }));
  if (refused !== null) return fail(refused);
  const log = createDefaultLogger().child({ component: "run", nodeId: settings.nodeId });
  log.info({ configPath, binary: binary.path }, "wrote litefs.yml");

  const mount = clearStaleMount(settings.mountPath);
  if (mount.kind === "failed") return fail(mount.message);
  if (mount.kind === "live") {
    return fail(
      `${settings.mountPath} is already a live FUSE mount: is another \`litefs mount\` running for this node? Stop it first`,
    );
  }
  if (mount.kind === "cleared")
    log.warn(
      { command: mount.command, code: mount.code },
      `cleared the dead FUSE mount at ${settings.mountPath} a LiteFS that died left behind`,
    );
  return { settings, configPath, binary: binary.path, token, log };
}

/** Step 3: waits until the lease service has joined its Raft group, then registers this node's API. */
async function joinRaftGroup(
  lease: RunningLeaseService,
  settings: LiteFSSettings,
  token: string | null,
  joinTimeoutMs: number,
  signal: AbortSignal,
  log: Logger,
): Promise<void> {
  log.info(
    { members: [settings.raft!.selfAddr, ...settings.raft!.peers] },
    "lease service started; waiting to join the Raft group",
  );
  await lease.waitUntilJoined(joinTimeoutMs === 0 ? Number.MAX_SAFE_INTEGER : joinTimeoutMs, signal);
  log.info("joined the Raft group");
  // LiteFS is not running yet, so a lease session this member still holds belongs to the LiteFS
  // of an earlier run that died (a crash and a quick restart, back before the Raft leader counted
  // this member silent): end it now instead of letting every node wait for its TTL.
  await endSessionsLeftByLitefs(lease, log, "ended the lease session this node's previous LiteFS still held");
  // So that a handoff on another node can find this node's LiteFS API.
  await registerMember(`http://127.0.0.1:${lease.httpPort}`, token, settings.raft!.selfAddr, {
    node: settings.nodeId!,
    apiUrl: settings.advertiseUrl!,
  }).catch((e: unknown) =>
    log.warn({ err: e }, "could not register in the member directory: handoffs to this node need it"),
  );
}
