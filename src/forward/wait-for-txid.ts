// Waiting for this replica to reach a TXID, pushed by the `/events` `tx` stream (no polling).
// Upstream litefs-js (fly-apps/litefs-js) compares TXIDs as strings/numbers and can answer before
// the position is reached; here (the proxy and litefs-node/litefs-js both wait through this) every
// comparison is bigint and the answer is true only once txid(db) >= target.
import { toTxid } from "../litefs/txid.js";
import type { TxNotice } from "../node/node.js";

/** What waiting needs from a LiteFSNode (src/node/node.ts satisfies it). */
export interface TxidSource {
  txid(db?: string): bigint | null;
  on(event: "tx", fn: (tx: TxNotice) => void): unknown;
  off(event: "tx", fn: (tx: TxNotice) => void): unknown;
}

export interface WaitForTxidOptions {
  /** Give up after this long (default 5000 ms, LiteFS's own proxy timeout). */
  readonly timeoutMs?: number;
  /** Give up when aborted; the promise then resolves false like a timeout. */
  readonly signal?: AbortSignal;
}

export const DEFAULT_TXID_WAIT_MS = 5000;

/**
 * Resolves true as soon as `source.txid(db) >= txid`, false when the timeout (or abort) comes first.
 * Resolves at once when the position is already reached. Never rejects for a timeout: the caller
 * decides what a late replica means (a 504, a read from the primary, a retry).
 */
export function waitForTxid(
  source: TxidSource,
  db: string,
  txid: bigint | string | number,
  options: WaitForTxidOptions = {},
): Promise<boolean> {
  const target = toTxid(txid);
  const timeoutMs = options.timeoutMs ?? DEFAULT_TXID_WAIT_MS;
  if (!Number.isFinite(timeoutMs) || timeoutMs < 0) {
    return Promise.reject(new RangeError(`waitForTxid: timeoutMs must be a non-negative number, got ${timeoutMs}`));
  }
  // A position that cannot be read (e.g. a malformed <db>-pos) counts as "not reached yet":
  // a throw inside a timer or an event listener would have nowhere to go.
  const reached = (): boolean => {
    try {
      const current = source.txid(db);
      return current !== null && current >= target;
    } catch {
      return false;
    }
  };
  if (reached()) return Promise.resolve(true);
  if (options.signal?.aborted) return Promise.resolve(false);

  return new Promise<boolean>((resolve) => {
    let done = false;
    const finish = (result: boolean): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      source.off("tx", onTx);
      options.signal?.removeEventListener("abort", onAbort);
      resolve(result);
    };
    // An event for our db may carry the position itself, or the node may have updated txid(db)
    // from it; trust either, but never an event of another database.
    const onTx = (tx: TxNotice): void => {
      if (tx.db !== db) return;
      if (tx.txid >= target || reached()) finish(true);
    };
    const onAbort = (): void => finish(false);
    const timer = setTimeout(() => finish(reached()), timeoutMs);
    source.on("tx", onTx);
    options.signal?.addEventListener("abort", onAbort, { once: true });
    // The position may have moved between the first check and subscribing.
    if (reached()) finish(true);
  });
}

/** `waitForTxid` bound to one node: the `waitForTxid(db, txid, { timeoutMs })` shape for jobs and sockets. */
export function bindWaitForTxid(
  source: TxidSource,
): (db: string, txid: bigint | string | number, options?: WaitForTxidOptions) => Promise<boolean> {
  return (db, txid, options) => waitForTxid(source, db, txid, options);
}
