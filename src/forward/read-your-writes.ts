// Read-your-writes on a replica: a read carrying a TXID waits until this replica has reached it.
import type { IncomingMessage, ServerResponse } from "node:http";
import { formatTxid } from "../litefs/txid.js";
import { overCapacity, refuse, type ProxyContext } from "./proxy-context.js";
import { forwardTo } from "./relay.js";
import { requestTxid } from "./txid.js";
import { waitForTxid } from "./wait-for-txid.js";

function clientGone(res: ServerResponse): AbortSignal {
  const controller = new AbortController();
  res.once("close", () => {
    if (!res.writableFinished) controller.abort();
  });
  return controller.signal;
}

/**
 * A read carrying a TXID this replica has not reached waits for it (within the TXID-wait budget),
 * then goes on, or is answered 504 / forwarded to the primary. True when the request was answered here.
 */
export async function awaitReadTxid(ctx: ProxyContext, req: IncomingMessage, res: ServerResponse): Promise<boolean> {
  const { node, db, settings, budgets } = ctx;
  const wanted = requestTxid(req.headers);
  if (wanted === null) return false;
  let have: bigint | null = null;
  try {
    have = node.txid(db);
  } catch {
    // An unreadable position counts as "behind": waitForTxid decides with the tx events.
  }
  if (have !== null && have >= wanted) return false;
  if (!budgets.txidWaits.take()) {
    overCapacity(ctx, req, res, budgets.txidWaits);
    return true;
  }
  const signal = clientGone(res);
  let reached: boolean;
  try {
    reached = await waitForTxid(node, db, wanted, { timeoutMs: settings.rywTimeoutMs, signal });
  } finally {
    budgets.txidWaits.give();
  }
  if (signal.aborted) return true;
  ctx.metrics?.recordTxidWait(reached ? "caught-up" : "timeout");
  if (reached) return false;
  const primary = node.primary;
  if (settings.rywTimeoutMode === "forward" && primary !== null) {
    await forwardTo(ctx, primary, req, res, null, "ryw-forwarded");
  } else {
    refuse(
      ctx,
      res,
      "ryw-timeout",
      504,
      `Proxy timeout: this replica did not reach TXID ${formatTxid(wanted)} within ${settings.rywTimeoutMs} ms`,
    );
  }
  return true;
}
