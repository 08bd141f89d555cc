// The two ways an upstream answer is obtained and sent back: relaying the local app's (or the
// primary's) answer, adding the TXID after a write, and forwarding a request to another node.
import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from "node:http";
import type { ForwardOutcome } from "../health/metrics.js";
import { formatTxid } from "../litefs/txid.js";
import { LOOP_HEADER, endToEndHeaders, hasRequestBody, upstreamRequestHeaders } from "./http-io.js";
import { record, refuse, type ProxyContext } from "./proxy-context.js";
import { primaryAddress } from "./settings.js";
import { TXID_HEADER, setCookieTxid, txidSetCookie } from "./txid.js";
import { isUpstreamError, sendUpstream } from "./upstream.js";

/** Streams an upstream answer back; on a write answered by this (primary) node, adds its TXID. */
export async function relay(
  ctx: ProxyContext,
  res: ServerResponse,
  upstream: IncomingMessage,
  addTxid: boolean,
): Promise<void> {
  const headers: OutgoingHttpHeaders = endToEndHeaders(upstream.headers);
  const status = upstream.statusCode ?? 502;
  // A TXID the app's side already set (LiteFS's proxy cookie, or a primary proxy's header) is the
  // most exact one; otherwise, for a write this node served as primary, read the position now.
  let txid = setCookieTxid(upstream.headers["set-cookie"]);
  const fromHeader = upstream.headers[TXID_HEADER];
  if (txid === null && addTxid && fromHeader === undefined) {
    // The write is done: a position we cannot read costs the header, never the app's answer.
    try {
      txid = await ctx.currentTxid(ctx.db);
    } catch (error) {
      ctx.logger?.warn({ err: error }, "litefs-node forward: cannot read the TXID after a write");
    }
    if (txid !== null && ctx.setCookie) {
      const cookies = upstream.headers["set-cookie"] ?? [];
      headers["set-cookie"] = [...cookies, txidSetCookie(txid)];
    }
  }
  if (txid !== null && fromHeader === undefined) headers[TXID_HEADER] = formatTxid(txid);
  if (res.destroyed) {
    upstream.destroy();
    return;
  }
  res.writeHead(status, upstream.statusMessage, headers);
  // Streaming answers (SSE, chunked downloads) must reach the client as they come. A sized
  // answer goes out with its first body bytes: one write instead of two (measured: less CPU per request).
  if (upstream.headers["content-length"] === undefined) res.flushHeaders();
  upstream.on("error", () => res.destroy());
  res.on("close", () => {
    if (!upstream.complete) upstream.destroy();
  });
  upstream.pipe(res);
}

/**
 * Sends the request to the primary (or the instance Fly-Replay named): one attempt, never a retry.
 * `body` is the buffered body, or null to stream the client's (a read, sent on exactly once).
 */
export async function forwardTo(
  ctx: ProxyContext,
  host: string,
  req: IncomingMessage,
  res: ServerResponse,
  body: Buffer | null,
  outcome: ForwardOutcome,
): Promise<void> {
  const { settings, logger } = ctx;
  const address = primaryAddress(settings, host);
  if (!address.ok) {
    logger?.warn({ host, problem: address.problem }, `litefs-node forward: not forwarding: ${address.message}`);
    if (address.problem === "not-a-node-name") {
      refuse(ctx, res, "bad-host", 502, `litefs-node forward: refusing to forward to ${address.message}`);
    } else {
      refuse(
        ctx,
        res,
        "no-address",
        502,
        `litefs-node forward: the primary is "${host}" but no forwarding address is configured for it (set LITEFS_FORWARD_TARGET or add it to LITEFS_FORWARD_HOSTS)`,
      );
    }
    return;
  }
  const base = address.url;
  let response: IncomingMessage;
  try {
    response = await sendUpstream(
      {
        base,
        method: req.method ?? "GET",
        path: req.url ?? "/",
        headers: upstreamRequestHeaders(req, body, ctx.trusted, { [LOOP_HEADER]: ctx.loopValue }),
        body: body ?? (hasRequestBody(req) ? req : null),
        connectTimeoutMs: ctx.connectTimeoutMs,
        client: res,
      },
      ctx.agents,
    );
  } catch (error) {
    if (isUpstreamError(error) && error.failure === "aborted") return;
    logger?.warn({ err: error, primary: host }, "litefs-node forward: primary unreachable");
    refuse(
      ctx,
      res,
      "primary-unreachable",
      502,
      `litefs-node forward: the primary "${host}" (${base}) is unreachable; nothing was written here: ${error instanceof Error ? error.message : String(error)}`,
    );
    return;
  }
  record(ctx, outcome);
  await relay(ctx, res, response, false);
}
