// `litefs-node run` once LiteFS is running: forward signals to it (in raft mode a SIGTERM on the
// primary first hands the primary over), wait until LiteFS exits or the lease service fails, then
// stop whatever is left of the app. Returns the exit code `run` ends with.
import { litefsApiUrl, type LiteFSSettings } from "../../src/config/index.js";
import type { RunningLeaseService } from "../../src/lease/lease-service.js";
import { fetchInfo } from "../../src/litefs/info-client.js";
import type { Logger } from "../../src/logger.js";
import { onSignals } from "../../src/signals.js";
import { handoffFromSettings } from "./handoff.js";
import { exitCodeOf, type LitefsProcess } from "./run-process.js";

/** How long ending a dead LiteFS's lease session may hold up `run` (stopping the app, or starting LiteFS). */
const END_SESSIONS_TIMEOUT_MS = 2000;

export interface SuperviseOptions {
  readonly settings: LiteFSSettings;
  readonly litefs: LitefsProcess;
  readonly lease: RunningLeaseService | null;
  /** 0: no handoff on SIGTERM, LiteFS just releases its lease. */
  readonly handoffTimeoutMs: number;
  readonly stopGraceMs: number;
  readonly signals: readonly NodeJS.Signals[];
  readonly log: Logger;
}

export async function superviseLitefs(options: SuperviseOptions): Promise<number> {
  const { litefs, stopGraceMs, log } = options;
  const stopForwarding = onSignals(options.signals, signalForwarder(options));
  const code = await waitForExit(litefs, options.lease, log);
  stopForwarding();
  // LiteFS stops the app itself on a clean exit; when it died on its own the app is still running
  // (on a dead mount): stop it so nothing is left behind.
  const leftovers = await litefs.stopLeftovers(stopGraceMs);
  if (leftovers.termed) {
    log.warn(
      { killed: leftovers.killed, graceMs: stopGraceMs },
      leftovers.killed
        ? "the app outlived LiteFS and ignored SIGTERM: killed it"
        : "the app outlived LiteFS: stopped it with SIGTERM",
    );
  }
  return code;
}

/**
 * Raft mode, SIGTERM (a rolling deploy, `docker stop`): if this node is primary, hand the
 * primary over first, losslessly, then stop LiteFS. Other signals, and any signal during the
 * handoff, go to LiteFS as usual (a second SIGTERM or SIGINT stops at once).
 */
function signalForwarder(options: SuperviseOptions): (signal: NodeJS.Signals) => void {
  const { settings, litefs, log, handoffTimeoutMs } = options;
  let handoff: "idle" | "running" | "done" = options.lease && handoffTimeoutMs > 0 ? "idle" : "done";
  const handOffThenStop = async (): Promise<void> => {
    try {
      const info = await fetchInfo(litefsApiUrl(settings), { timeoutMs: 1000 });
      if (info.isPrimary) {
        log.info("SIGTERM on the primary: handing the primary over before stopping");
        await handoffFromSettings(settings, { catchUpTimeoutMs: handoffTimeoutMs, logger: log });
      }
    } catch (e) {
      log.warn({ err: e }, `no handoff before stopping: ${(e as Error).message}`);
    }
    if (handoff === "running") {
      handoff = "done";
      log.info({ signal: "SIGTERM" }, "forwarding SIGTERM to LiteFS");
      litefs.signal("SIGTERM");
    }
  };
  return (signal) => {
    if (signal === "SIGTERM" && handoff === "idle") {
      handoff = "running";
      void handOffThenStop();
      return;
    }
    if (handoff === "running" && (signal === "SIGTERM" || signal === "SIGINT")) handoff = "done";
    log.info({ signal }, `forwarding ${signal} to LiteFS`);
    litefs.signal(signal);
  };
}

/**
 * No LiteFS of this node is running (the one `run` started exited, or `run` has not started one
 * yet), so nothing writes through this node: end any lease session this member still holds, left
 * by a LiteFS that died without releasing it, so another node can be primary about a second later
 * instead of after the member-silence wait or the TTL (or never, in a two-member group that loses
 * quorum when this lease service stops). After a clean exit there is nothing to end. `ended` is
 * the log line when a session was ended.
 */
export async function endSessionsLeftByLitefs(lease: RunningLeaseService, log: Logger, ended: string): Promise<void> {
  try {
    const count = await lease.endLocalSessions(END_SESSIONS_TIMEOUT_MS);
    if (count > 0) log.warn({ sessions: count }, ended);
  } catch (e) {
    log.warn({ err: e }, `could not end the lease session a dead LiteFS left: ${(e as Error).message}`);
  }
}

/** LiteFS's own exit code, or 1 when the lease service failed first (LiteFS is then stopped). */
async function waitForExit(litefs: LitefsProcess, lease: RunningLeaseService | null, log: Logger): Promise<number> {
  const outcome = await Promise.race([
    litefs.exited.then((exit) => ({ kind: "litefs" as const, exit })),
    ...(lease ? [lease.failed.then((error) => ({ kind: "lease" as const, error }))] : []),
  ]);
  if (outcome.kind === "lease") {
    log.error({ err: outcome.error }, "the lease service failed; stopping LiteFS");
    litefs.signal("SIGTERM");
    const late = setTimeout(() => litefs.signal("SIGKILL"), 30_000);
    await litefs.exited;
    clearTimeout(late);
    return 1;
  }
  const { exit } = outcome;
  if (exit.spawnError) log.error({ err: exit.spawnError }, "could not start LiteFS");
  else log.info({ code: exit.code, signal: exit.signal }, "LiteFS exited");
  if (lease)
    await endSessionsLeftByLitefs(
      lease,
      log,
      "LiteFS exited holding the lease: ended its session so another node can take over",
    );
  return exitCodeOf(exit);
}
