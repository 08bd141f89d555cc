// A lossless planned handoff of the LiteFS primary (raft or any consul-style lease).
//
// A bare LiteFS handoff while the app writes loses data: the target takes over with whatever it
// has replicated so far, and a commit in flight on the old primary makes LiteFS exit 99 after the
// app was told the write succeeded. So, in order:
//   1. close the write gate of every app process on this host (the drain file, handoff-drain.ts:
//      their raft-mode gate refuses new writes with NotPrimaryError, reason "handoff");
//   2. give the gates time to notice (a gate caches its verdict for at most one poll interval of
//      the lease state, 100 ms), then take SQLite's write lock on the database (BEGIN IMMEDIATE):
//      it is granted once every open write transaction has finished, and from then on nothing can
//      commit here. A writer that still gets past (it bypasses the library, or was stopped between
//      its gate check and its statement) commits after LiteFS demoted this node, so LiteFS refuses
//      that commit (SQLITE_IOERR, translated to NotPrimaryError): it is not acknowledged;
//   3. wait until the target's TXID (its /metrics) reaches this primary's (`<db>-pos`), checking
//      that ours did not move meanwhile;
//   4. `POST /promote` on the target (LiteFS asks this primary for the handoff);
//   5. wait until this node's LiteFS says it is no longer primary, then release the lock.
// The lock holds no changes: LiteFS's handoff takes no database lock, and on release nothing is
// committed. On any failure before step 4 succeeds, the lock and the gate are released at once and
// this node stays primary.

import BetterSqlite3 from "better-sqlite3";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { hasErrorCode } from "../error-brand.js";
import { LiteFSError } from "../errors.js";
import { fetchInfo } from "../litefs/info-client.js";
import type { Logger } from "../logger.js";
import { fetchDatabaseTxid } from "../litefs/metrics-txid.js";
import { readPositionFile } from "../litefs/mount-files.js";
import { formatTxid } from "../litefs/txid.js";
import { clearHandoffDrain, handoffDrainPath, writeHandoffDrain } from "../election/handoff-drain.js";

export interface HandoffTarget {
  /** The target's LiteFS hostname (its nodeId). */
  readonly node: string;
  /** The target's LiteFS HTTP API, e.g. http://node-b:20202. */
  readonly apiUrl: string;
}

export interface HandoffOptions {
  /** This node's LiteFS mount (settings.mountPath): `<db>-pos` and the drain file's place. */
  readonly mountPath: string;
  /** The database whose writes must not be lost (settings.databaseName). */
  readonly databaseName: string;
  /** This node's LiteFS HTTP API (litefsApiUrl(settings)). */
  readonly apiUrl: string;
  /** Candidates; the most caught-up reachable replica is chosen. One entry = `--to`. */
  readonly targets: readonly HandoffTarget[];
  /** How long the app processes' gates get to see the drain before the lock is taken (ms). Default 200: twice the gate's longest cached verdict. */
  readonly gateSettleMs?: number;
  /** How long open write transactions get to finish (ms). Default 5000. */
  readonly drainTimeoutMs?: number;
  /** How long the target gets to catch up (ms). Default 10000. */
  readonly catchUpTimeoutMs?: number;
  /** How long LiteFS gets to move the primary once asked (ms). Default 5000. */
  readonly promoteTimeoutMs?: number;
  /** Poll interval for TXIDs and roles (ms). Default 10. */
  readonly pollMs?: number;
  readonly logger?: Logger;
}

export interface HandoffResult {
  readonly from: string | null;
  readonly to: string;
  /** The TXID both nodes had when LiteFS was asked to hand off (16 hex digits). */
  readonly txid: string;
  /** How long this node refused writes: from closing the gate to LiteFS no longer being primary here (ms). */
  readonly refusedMs: number;
  /** Letting the gates see the drain and waiting for open transactions (ms). */
  readonly drainMs: number;
  /** Waiting for the target to catch up (ms). */
  readonly catchUpMs: number;
  /** From asking the target to this node no longer being primary (ms). */
  readonly promoteMs: number;
}

class HandoffError extends LiteFSError {
  constructor(message: string, options?: { cause?: unknown }) {
    super("LITEFS_HANDOFF", message, options);
  }
}

/** True when `e` is a HandoffError (the handoff did not happen or did not finish), from any copy of the package. */
export function isHandoffError(e: unknown): e is LiteFSError {
  return hasErrorCode(e, "LITEFS_HANDOFF");
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function until<T>(what: string, timeoutMs: number, pollMs: number, probe: () => Promise<T | null>): Promise<T> {
  const deadline = performance.now() + timeoutMs;
  let last: unknown = null;
  for (;;) {
    try {
      const value = await probe();
      if (value !== null) return value;
    } catch (error) {
      last = error;
    }
    if (performance.now() >= deadline) {
      throw new HandoffError(
        `${what} within ${timeoutMs} ms${last instanceof Error ? ` (last error: ${last.message})` : ""}`,
        { cause: last },
      );
    }
    await sleep(pollMs);
  }
}

/** The reachable candidate with the highest TXID of `db` (ties: the first listed). */
async function chooseTarget(targets: readonly HandoffTarget[], db: string): Promise<HandoffTarget> {
  if (targets.length === 0) throw new HandoffError("no handoff target: no other node is known (give one with --to)");
  const answers = await Promise.all(
    targets.map(async (t) => {
      try {
        const info = await fetchInfo(t.apiUrl, { timeoutMs: 1000 });
        if (info.isPrimary) return { t, problem: "says it is primary" };
        if (!info.candidate) return { t, problem: "is not a candidate (lease.candidate false)" };
        return { t, txid: (await fetchDatabaseTxid(t.apiUrl, db, { timeoutMs: 1000 })) ?? 0n };
      } catch (error) {
        return { t, problem: (error as Error).message };
      }
    }),
  );
  let best: { t: HandoffTarget; txid: bigint } | null = null;
  for (const a of answers)
    if ("txid" in a && a.txid !== undefined && (best === null || a.txid > best.txid)) best = { t: a.t, txid: a.txid };
  if (best) return best.t;
  const why = answers.map((a) => `${a.t.node}: ${"problem" in a ? a.problem : "?"}`).join("; ");
  throw new HandoffError(`no node can take over: ${why}`);
}

/** The TXID `<db>-pos` shows on this node; 0 before the database exists. */
function localTxid(mountPath: string, db: string): bigint {
  return readPositionFile(mountPath, db)?.txid ?? 0n;
}

/**
 * Takes SQLite's write lock, waiting up to `timeoutMs` for open write transactions; null when
 * there is no database yet. Polls without a busy timeout: a synchronous wait would stall this
 * process, and `run` hosts the lease service, which must answer LiteFS within a second.
 */
async function lockWrites(path: string, timeoutMs: number, pollMs: number): Promise<BetterSqlite3.Database | null> {
  if (!existsSync(path)) return null;
  const db = new BetterSqlite3(path, { fileMustExist: true, timeout: 0 });
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    try {
      db.exec("BEGIN IMMEDIATE");
      return db;
    } catch (error) {
      const busy = (error as { code?: string }).code === "SQLITE_BUSY";
      if (busy && performance.now() < deadline) {
        await sleep(Math.min(pollMs, 5));
        continue;
      }
      db.close();
      throw new HandoffError(
        busy
          ? `open write transactions on ${path} did not finish within ${timeoutMs} ms`
          : `cannot take the write lock on ${path}: ${(error as Error).message}`,
        { cause: error },
      );
    }
  }
}

function unlock(db: BetterSqlite3.Database | null): void {
  if (!db) return;
  try {
    if (db.inTransaction) db.exec("ROLLBACK");
  } finally {
    db.close();
  }
}

/** The timings of a handoff, defaults filled in (HandoffOptions says what each is for). */
interface HandoffTimings {
  readonly gateSettleMs: number;
  readonly drainTimeoutMs: number;
  readonly catchUpTimeoutMs: number;
  readonly promoteTimeoutMs: number;
  readonly pollMs: number;
}

function timingsOf(options: HandoffOptions): HandoffTimings {
  return {
    gateSettleMs: options.gateSettleMs ?? 200,
    drainTimeoutMs: options.drainTimeoutMs ?? 5000,
    catchUpTimeoutMs: options.catchUpTimeoutMs ?? 10_000,
    promoteTimeoutMs: options.promoteTimeoutMs ?? 5000,
    pollMs: options.pollMs ?? 10,
  };
}

/**
 * Moves the primary from this node to a caught-up replica without losing an acknowledged write.
 * @throws HandoffError when this node is not primary, no target can take over, open transactions
 *   or the target's catch-up take too long, or LiteFS refuses; this node then stays primary.
 */
export async function handoff(options: HandoffOptions): Promise<HandoffResult> {
  const t = timingsOf(options);
  const db = options.databaseName;
  const log = options.logger?.child({ component: "handoff" });
  const from = await confirmPrimary(options.apiUrl);
  const target = await chooseTarget(options.targets, db);
  log?.info({ target: target.node }, `handing the primary over to "${target.node}"`);

  // 1. Close the gates for the whole budget of the steps below, plus a margin: the drain expires by
  //    itself if this process dies mid-way.
  const drainPath = handoffDrainPath(options.mountPath);
  drainFor(drainPath, target, t.gateSettleMs + t.drainTimeoutMs + t.catchUpTimeoutMs + t.promoteTimeoutMs + 2000);
  const closedAt = performance.now();
  let lock: BetterSqlite3.Database | null = null;
  let promoted = false;
  try {
    // 2. Let every gate see the drain, wait for open write transactions, then hold the lock so
    //    nothing else commits.
    await sleep(t.gateSettleMs);
    lock = await lockWrites(join(options.mountPath, db), t.drainTimeoutMs, t.pollMs);
    const lockedAt = performance.now();
    // 3. The target must have everything this node committed.
    const txid = await waitForCatchUp(target, options.mountPath, db, t.catchUpTimeoutMs, t.pollMs);
    const caughtUpAt = performance.now();
    // 4. Ask the target to take over; LiteFS asks us (the primary) for the handoff.
    await askToPromote(target, t.promoteTimeoutMs);
    promoted = true;
    // 5. Done when this node's LiteFS no longer calls itself primary.
    await waitUntilDemoted(options.apiUrl, target, t.promoteTimeoutMs, t.pollMs);
    const doneAt = performance.now();
    const result: HandoffResult = {
      from,
      to: target.node,
      txid: formatTxid(txid),
      refusedMs: Math.round(doneAt - closedAt),
      drainMs: Math.round(lockedAt - closedAt),
      catchUpMs: Math.round(caughtUpAt - lockedAt),
      promoteMs: Math.round(doneAt - caughtUpAt),
    };
    log?.info({ ...result }, `"${target.node}" is primary now (writes refused here for ${result.refusedMs} ms)`);
    return result;
  } finally {
    unlock(lock);
    // After a promotion keep the gates closed a little longer: LiteFS already demoted this node,
    // and the app processes learn that from their /events stream a moment later. Otherwise this
    // node stays primary and its gates open at once.
    if (promoted) drainFor(drainPath, target, 2000);
    else clearHandoffDrain(drainPath);
  }
}

/** Closes the write gates of this host's app processes for `ms` from now (the drain file). */
function drainFor(drainPath: string, target: HandoffTarget, ms: number): void {
  writeHandoffDrain(drainPath, {
    target: target.node,
    untilNs: String(process.hrtime.bigint() + BigInt(ms) * 1_000_000n),
  });
}

/** This node's primary hostname, after LiteFS confirmed this node is the primary (only a primary hands off). */
async function confirmPrimary(apiUrl: string): Promise<string | null> {
  const info = await fetchInfo(apiUrl, { timeoutMs: 2000 }).catch((error: unknown) => {
    throw new HandoffError(`cannot ask this node's LiteFS whether it is primary: ${(error as Error).message}`, {
      cause: error,
    });
  });
  if (!info.isPrimary) {
    throw new HandoffError(
      `this node is not the primary${info.primaryHostname ? ` ("${info.primaryHostname}" is)` : " (no primary is known)"}: nothing to hand off`,
    );
  }
  return info.primaryHostname;
}

/**
 * Waits until the target's TXID reaches this node's, and returns that TXID. The local TXID is read
 * again after each wait: if it moved (a commit got past the lock), the target must catch up again.
 */
async function waitForCatchUp(
  target: HandoffTarget,
  mountPath: string,
  db: string,
  timeoutMs: number,
  pollMs: number,
): Promise<bigint> {
  const startedAt = performance.now();
  let txid = localTxid(mountPath, db);
  for (;;) {
    const want = txid;
    await until(
      `"${target.node}" did not catch up to TXID ${formatTxid(want)}`,
      Math.max(0, timeoutMs - (performance.now() - startedAt)),
      pollMs,
      async () => {
        // No such database there yet counts as TXID 0 (nothing to catch up when there is none here either).
        const theirs = (await fetchDatabaseTxid(target.apiUrl, db, { timeoutMs: 1000 })) ?? 0n;
        return theirs >= want ? theirs : null;
      },
    );
    txid = localTxid(mountPath, db);
    if (txid === want) return txid; // nothing moved while we waited: the lock holds
  }
}

/** `POST /promote` on the target; anything but 200 is a refusal. */
async function askToPromote(target: HandoffTarget, timeoutMs: number): Promise<void> {
  const response = await fetch(new URL("/promote", target.apiUrl), {
    method: "POST",
    signal: AbortSignal.timeout(timeoutMs),
  }).catch((error: unknown) => {
    throw new HandoffError(
      `cannot reach "${target.node}" at ${target.apiUrl} to promote it: ${(error as Error).message}`,
      {
        cause: error,
      },
    );
  });
  const body = await response.text();
  if (response.status !== 200)
    throw new HandoffError(
      `"${target.node}" refused the promotion: HTTP ${response.status} ${body.trim().slice(0, 200)}`,
    );
}

/** Waits until this node's LiteFS no longer says it is primary (the handoff went through). */
async function waitUntilDemoted(
  apiUrl: string,
  target: HandoffTarget,
  timeoutMs: number,
  pollMs: number,
): Promise<void> {
  await until(
    `LiteFS on this node still says it is primary after asking "${target.node}" to take over`,
    timeoutMs,
    pollMs,
    async () => {
      const now = await fetchInfo(apiUrl, { timeoutMs: 1000 });
      return now.isPrimary ? null : now;
    },
  );
}
