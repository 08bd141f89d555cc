// One proxied HTTP request, from health check and budgets to the answer: a write on a replica goes
// to the primary, a read may wait for its TXID, everything else goes to the local app (or LiteFS's
// proxy), whose Fly-Replay answer is followed once.
import type { IncomingMessage, ServerResponse } from "node:http";
import { answerHealthRequest } from "../health/endpoints.js";
import {
  LOOP_HEADER,
  SAFE_METHODS,
  flyReplayInstance,
  hasRequestBody,
  matchesPathPrefix,
  pathnameOf,
  readBody,
  sendPlain,
  upstreamRequestHeaders,
} from "./http-io.js";
import { overCapacity, refuse, type ProxyContext } from "./proxy-context.js";
import type { ForwardingNodeView } from "./proxy.js";
import { awaitReadTxid } from "./read-your-writes.js";
import { forwardTo, relay } from "./relay.js";
import { isUpstreamError, sendUpstream } from "./upstream.js";

type NodeJudgement = Pick<ForwardingNodeView, "role" | "primary" | "splitBrain">;

/** Role, primary and split brain in one judgement: the node's snapshot when it has one. */
function stateOf(node: ForwardingNodeView): NodeJudgement {
  return node.snapshot ? node.snapshot() : { role: node.role, primary: node.primary, splitBrain: node.splitBrain };
}

export async function handleProxyRequest(ctx: ProxyContext, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const { settings, budgets } = ctx;
  const method = (req.method ?? "GET").toUpperCase();
  const url = req.url ?? "/";
  if (await answerHealth(ctx, method, url, res)) return;
  if (!budgets.requests.take()) {
    overCapacity(ctx, req, res, budgets.requests);
    return;
  }
  res.once("close", () => budgets.requests.give());

  const forwarded = req.headers[LOOP_HEADER] !== undefined;
  const isWrite =
    !SAFE_METHODS.has(method) ||
    (settings.alwaysForward.length > 0 && matchesPathPrefix(pathnameOf(url), settings.alwaysForward));
  // A write's body is buffered: it goes to the primary, or may come back as Fly-Replay and be
  // sent again. A read's body is streamed to wherever it goes, once, and never held here.
  let body: Buffer | null = null;
  if (isWrite) {
    body = await bufferBody(ctx, req, res);
    if (body === null) return;
  }

  // One judgement of the node per request (each getter judges anew; three showed up in a profile).
  const state = stateOf(ctx.node);
  if (isWrite && (state.role !== "primary" || state.splitBrain)) {
    await writeOffPrimary(ctx, req, res, body, state, forwarded);
    return;
  }

  if (!isWrite && state.role === "replica" && !forwarded && (await awaitReadTxid(ctx, req, res))) return;

  const response = await sendToApp(ctx, req, res, method, url, body);
  if (response === null) return;
  if (response.headers["fly-replay"] !== undefined) {
    await followFlyReplay(ctx, req, res, response, method, body, forwarded);
    return;
  }
  // A write reaching here was judged on a primary: its answer gets the TXID.
  await relay(ctx, res, response, isWrite && state.role === "primary");
}

/** Serves /litefs-node/health and /metrics when enabled; true when it answered. */
async function answerHealth(ctx: ProxyContext, method: string, url: string, res: ServerResponse): Promise<boolean> {
  if (!ctx.healthEnabled) return false;
  const { node, db, metrics, raft } = ctx;
  const answer = await answerHealthRequest(method, url, {
    node,
    db,
    maxLagMs: ctx.settings.healthMaxLagMs,
    ...(metrics ? { metrics } : {}),
    ...(raft ? { raft } : {}),
  });
  if (!answer) return false;
  res.writeHead(answer.status, { ...answer.headers, "content-length": Buffer.byteLength(answer.body) });
  res.end(answer.body);
  return true;
}

/** Buffers a write's body within the limit and the budget (given back when the answer is done); null when refused. */
async function bufferBody(ctx: ProxyContext, req: IncomingMessage, res: ServerResponse): Promise<Buffer | null> {
  const { settings, budgets } = ctx;
  const read = await readBody(req, settings.bodyLimitBytes, budgets.bodyBytes);
  if (read.ok) {
    res.once("close", () => budgets.bodyBytes.give(read.body.length));
    return read.body;
  }
  if (read.reason === "too-large") {
    refuse(
      ctx,
      res,
      "body-too-large",
      413,
      `litefs-node forward: request body over the ${settings.bodyLimitBytes}-byte limit (LITEFS_FORWARD_BODY_LIMIT); bodies are buffered so a write can be forwarded to the primary`,
      { connection: "close" },
    );
  } else if (read.reason === "over-budget") {
    overCapacity(ctx, req, res, budgets.bodyBytes);
  }
  return null;
}

/** A write on a replica (or during split brain): refused, or forwarded once to the primary. */
async function writeOffPrimary(
  ctx: ProxyContext,
  req: IncomingMessage,
  res: ServerResponse,
  body: Buffer | null,
  state: NodeJudgement,
  forwarded: boolean,
): Promise<void> {
  if (state.splitBrain) {
    refuse(
      ctx,
      res,
      "no-primary",
      503,
      "litefs-node forward: split brain (LiteFS and the election disagree about the primary); writes are refused until they agree",
      { "retry-after": ctx.retryAfter },
    );
    return;
  }
  if (forwarded) {
    refuse(
      ctx,
      res,
      "loop",
      508,
      `litefs-node forward: this write was already forwarded once (${LOOP_HEADER}: ${String(req.headers[LOOP_HEADER])}) and reached a replica; not forwarding again`,
    );
    return;
  }
  const primary = state.primary;
  if (primary === null) {
    refuse(ctx, res, "no-primary", 503, "litefs-node forward: no primary is known right now; retry shortly", {
      "retry-after": ctx.retryAfter,
    });
    return;
  }
  await forwardTo(ctx, primary, req, res, body, "forwarded");
}

/** Sends the request to the local app (or LiteFS's proxy); null when it was answered here (502 or client gone). */
async function sendToApp(
  ctx: ProxyContext,
  req: IncomingMessage,
  res: ServerResponse,
  method: string,
  url: string,
  body: Buffer | null,
): Promise<IncomingMessage | null> {
  const { settings } = ctx;
  try {
    return await sendUpstream(
      {
        base: settings.upstream,
        method,
        path: url,
        headers: upstreamRequestHeaders(req, body, ctx.trusted),
        body: body ?? (hasRequestBody(req) ? req : null),
        connectTimeoutMs: ctx.connectTimeoutMs,
        client: res,
      },
      ctx.agents,
    );
  } catch (error) {
    if (isUpstreamError(error) && error.failure === "aborted") return null;
    ctx.logger?.warn({ err: error }, "litefs-node forward: local app unreachable");
    sendPlain(
      res,
      502,
      `litefs-node forward: the app at ${settings.upstream} is unreachable: ${error instanceof Error ? error.message : String(error)}`,
    );
    return null;
  }
}

/**
 * LiteFS's proxy does not forward a write off Fly.io: it answers 200, an empty body and
 * Fly-Replay. The app never saw the request, so replaying it once is safe.
 */
async function followFlyReplay(
  ctx: ProxyContext,
  req: IncomingMessage,
  res: ServerResponse,
  response: IncomingMessage,
  method: string,
  body: Buffer | null,
  forwarded: boolean,
): Promise<void> {
  response.resume();
  const replayTo = flyReplayInstance(response.headers["fly-replay"]);
  if (replayTo === null) {
    refuse(
      ctx,
      res,
      "no-address",
      502,
      `litefs-node forward: cannot act on "Fly-Replay: ${String(response.headers["fly-replay"])}" (no instance named)`,
    );
    return;
  }
  if (forwarded) {
    refuse(
      ctx,
      res,
      "loop",
      508,
      `litefs-node forward: LiteFS asked to replay an already forwarded request to "${replayTo}"; not forwarding again`,
    );
    return;
  }
  if (body === null && hasRequestBody(req)) {
    refuse(
      ctx,
      res,
      "no-address",
      502,
      `litefs-node forward: LiteFS asked to replay a ${method} to "${replayTo}", but its body was streamed, not kept (list the path in LITEFS_FORWARD_ALWAYS)`,
    );
    return;
  }
  await forwardTo(ctx, replayTo, req, res, body, "replayed");
}
