// The write-forwarding reverse proxy each node runs in front of its app (or of LiteFS's proxy).
// Reads pass through; writes on a replica go to the primary's app; Fly-Replay answers from LiteFS's
// proxy are replayed; reads carrying a TXID wait for this replica to reach it.
import http, { type IncomingMessage, type OutgoingHttpHeaders, type ServerResponse } from "node:http";
import { listenOn } from "../net-io.js";
import type { Duplex } from "node:stream";
import type { Logger } from "pino";
import type { ForwardOutcome, LiteFSNodeMetrics } from "../health/metrics.js";
import type { NodeStateView, RaftMetricsSource } from "../health/node-view.js";
import { answerHealthRequest } from "../health/endpoints.js";
import {
  LOOP_HEADER,
  SAFE_METHODS,
  endToEndHeaders,
  flyReplayInstance,
  hasRequestBody,
  matchesPathPrefix,
  pathnameOf,
  readBody,
  sendPlain,
  upstreamRequestHeaders,
} from "./http-io.js";
import { createProxyBudgets, type Allowance } from "./budget.js";
import { trustedPeers } from "./forwarded-headers.js";
import { parseListenAddress, primaryAddress, type ForwardSettings } from "./settings.js";
import { formatTxid } from "../litefs/txid.js";
import { TXID_HEADER, requestTxid, setCookieTxid, txidSetCookie } from "./txid.js";
import { createUpstreamAgents, isUpstreamError, sendUpstream } from "./upstream.js";
import { passUpgrade, refuseUpgrade } from "./upgrade.js";
import { waitForTxid, type TxidSource } from "./wait-for-txid.js";

/** What the proxy reads from the node: role, the primary's hostname, split brain, TXIDs and tx events. */
export type ForwardingNodeView = NodeStateView & TxidSource;

export interface ForwardingProxyOptions {
  readonly node: ForwardingNodeView;
  readonly settings: ForwardSettings;
  /** Database whose TXID read-your-writes tracks (settings.db wins when set). */
  readonly db: string;
  /** This node's id, sent in the loop-protection header (for logs on the receiving side). */
  readonly nodeId?: string | null;
  readonly metrics?: LiteFSNodeMetrics;
  /** Serve /litefs-node/health (and /litefs-node/metrics when metrics are given) from the proxy. */
  readonly health?: boolean | { readonly raft?: RaftMetricsSource };
  /** Also set LiteFS's `__txid` cookie after a write when the app's answer has none (default true). */
  readonly txidCookie?: boolean;
  /**
   * The primary's position right after a write. Default: node.txid(db), which follows the /events
   * stream and may trail the commit by a moment; the CLI reads `<db>-pos` instead.
   */
  readonly currentTxid?: (db: string) => bigint | null | Promise<bigint | null>;
  /** No TCP connection to an upstream within this time: 502 (default 5000 ms). */
  readonly connectTimeoutMs?: number;
  /** Seconds in the Retry-After of a 503 (default 1). */
  readonly retryAfterSeconds?: number;
  readonly logger?: Logger;
}

export interface ForwardingProxy {
  /** The node:http server (not listening until listen()). */
  readonly server: http.Server;
  /** The request listener, to mount in a server of your own. */
  handleRequest(req: IncomingMessage, res: ServerResponse): void;
  /** The `upgrade` listener (WebSockets). */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void;
  /** Listens on "host:port" / ":port" (default settings.listen); resolves with the bound address. */
  listen(address?: string): Promise<{ host: string; port: number; url: string }>;
  /** Stops accepting, ends idle keep-alive connections and in-flight upgrades; resolves when closed. */
  close(): Promise<void>;
}

const DEFAULT_CONNECT_TIMEOUT_MS = 5000;

/** Role, primary and split brain in one judgement: the node's snapshot when it has one. */
function stateOf(node: ForwardingNodeView): Pick<ForwardingNodeView, "role" | "primary" | "splitBrain"> {
  return node.snapshot ? node.snapshot() : { role: node.role, primary: node.primary, splitBrain: node.splitBrain };
}

export function createForwardingProxy(options: ForwardingProxyOptions): ForwardingProxy {
  const { node, settings, metrics, logger } = options;
  const db = settings.db ?? options.db;
  const connectTimeoutMs = options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
  const retryAfter = String(options.retryAfterSeconds ?? 1);
  const loopValue = options.nodeId ?? "1";
  const setCookie = options.txidCookie ?? true;
  const currentTxid = options.currentTxid ?? ((name: string) => node.txid(name));
  const agents = createUpstreamAgents();
  const budgets = createProxyBudgets(settings);
  const trusted = trustedPeers(settings.trustedProxies);
  const healthEnabled = options.health !== undefined && options.health !== false;
  const raft = typeof options.health === "object" ? options.health.raft : undefined;
  const upgradeSockets = new Set<Duplex>();

  const record = (outcome: ForwardOutcome): void => metrics?.recordForward(outcome);

  /** Streams an upstream answer back; on a write answered by this (primary) node, adds its TXID. */
  async function relay(res: ServerResponse, upstream: IncomingMessage, addTxid: boolean): Promise<void> {
    const headers: OutgoingHttpHeaders = endToEndHeaders(upstream.headers);
    const status = upstream.statusCode ?? 502;
    // A TXID the app's side already set (LiteFS's proxy cookie, or a primary proxy's header) is the
    // most exact one; otherwise, for a write this node served as primary, read the position now.
    let txid = setCookieTxid(upstream.headers["set-cookie"]);
    const fromHeader = upstream.headers[TXID_HEADER];
    if (txid === null && addTxid && fromHeader === undefined) {
      // The write is done: a position we cannot read costs the header, never the app's answer.
      try {
        txid = await currentTxid(db);
      } catch (error) {
        logger?.warn({ err: error }, "litefs-node forward: cannot read the TXID after a write");
      }
      if (txid !== null && setCookie) {
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

  function clientGone(res: ServerResponse): AbortSignal {
    const controller = new AbortController();
    res.once("close", () => {
      if (!res.writableFinished) controller.abort();
    });
    return controller.signal;
  }

  /** 503 + Retry-After for a spent budget; a body the client is still sending is discarded, not kept. */
  function overCapacity(req: IncomingMessage, res: ServerResponse, allowance: Allowance): void {
    record("over-capacity");
    const unread = !req.readableEnded && hasRequestBody(req);
    if (unread) req.resume();
    sendPlain(res, 503, allowance.exhausted(), {
      "retry-after": retryAfter,
      ...(unread ? { connection: "close" } : {}),
    });
  }

  /**
   * Sends the request to the primary (or the instance Fly-Replay named): one attempt, never a retry.
   * `body` is the buffered body, or null to stream the client's (a read, sent on exactly once).
   */
  async function forwardTo(
    host: string,
    req: IncomingMessage,
    res: ServerResponse,
    body: Buffer | null,
    outcome: ForwardOutcome,
  ): Promise<void> {
    const address = primaryAddress(settings, host);
    if (!address.ok) {
      logger?.warn({ host, problem: address.problem }, `litefs-node forward: not forwarding: ${address.message}`);
      if (address.problem === "not-a-node-name") {
        record("bad-host");
        sendPlain(res, 502, `litefs-node forward: refusing to forward to ${address.message}`);
      } else {
        record("no-address");
        sendPlain(
          res,
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
          headers: upstreamRequestHeaders(req, body, trusted, { [LOOP_HEADER]: loopValue }),
          body: body ?? (hasRequestBody(req) ? req : null),
          connectTimeoutMs,
          client: res,
        },
        agents,
      );
    } catch (error) {
      if (isUpstreamError(error) && error.failure === "aborted") return;
      record("primary-unreachable");
      logger?.warn({ err: error, primary: host }, "litefs-node forward: primary unreachable");
      sendPlain(
        res,
        502,
        `litefs-node forward: the primary "${host}" (${base}) is unreachable; nothing was written here: ${error instanceof Error ? error.message : String(error)}`,
      );
      return;
    }
    record(outcome);
    await relay(res, response, false);
  }

  /** Serves /litefs-node/health and /metrics when enabled; true when it answered. */
  async function answerHealth(method: string, url: string, res: ServerResponse): Promise<boolean> {
    if (!healthEnabled) return false;
    const answer = await answerHealthRequest(method, url, {
      node,
      db,
      maxLagMs: settings.healthMaxLagMs,
      ...(metrics ? { metrics } : {}),
      ...(raft ? { raft } : {}),
    });
    if (!answer) return false;
    res.writeHead(answer.status, { ...answer.headers, "content-length": Buffer.byteLength(answer.body) });
    res.end(answer.body);
    return true;
  }

  /** Buffers a write's body within the limit and the budget (given back when the answer is done); null when refused. */
  async function bufferBody(req: IncomingMessage, res: ServerResponse): Promise<Buffer | null> {
    const read = await readBody(req, settings.bodyLimitBytes, budgets.bodyBytes);
    if (read.ok) {
      res.once("close", () => budgets.bodyBytes.give(read.body.length));
      return read.body;
    }
    if (read.reason === "too-large") {
      record("body-too-large");
      sendPlain(
        res,
        413,
        `litefs-node forward: request body over the ${settings.bodyLimitBytes}-byte limit (LITEFS_FORWARD_BODY_LIMIT); bodies are buffered so a write can be forwarded to the primary`,
        { connection: "close" },
      );
    } else if (read.reason === "over-budget") {
      overCapacity(req, res, budgets.bodyBytes);
    }
    return null;
  }

  /**
   * A read carrying a TXID this replica has not reached waits for it (within the TXID-wait budget),
   * then goes on, or is answered 504 / forwarded to the primary. True when the request was answered here.
   */
  async function awaitReadTxid(req: IncomingMessage, res: ServerResponse): Promise<boolean> {
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
      overCapacity(req, res, budgets.txidWaits);
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
    metrics?.recordTxidWait(reached ? "caught-up" : "timeout");
    if (reached) return false;
    const primary = node.primary;
    if (settings.rywTimeoutMode === "forward" && primary !== null) {
      await forwardTo(primary, req, res, null, "ryw-forwarded");
    } else {
      record("ryw-timeout");
      sendPlain(
        res,
        504,
        `Proxy timeout: this replica did not reach TXID ${formatTxid(wanted)} within ${settings.rywTimeoutMs} ms`,
      );
    }
    return true;
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const method = (req.method ?? "GET").toUpperCase();
    const url = req.url ?? "/";
    if (await answerHealth(method, url, res)) return;
    if (!budgets.requests.take()) {
      overCapacity(req, res, budgets.requests);
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
      body = await bufferBody(req, res);
      if (body === null) return;
    }

    // One judgement of the node per request (each getter judges anew; three showed up in a profile).
    const state = stateOf(node);
    if (isWrite && (state.role !== "primary" || state.splitBrain)) {
      if (state.splitBrain) {
        record("no-primary");
        sendPlain(
          res,
          503,
          "litefs-node forward: split brain (LiteFS and the election disagree about the primary); writes are refused until they agree",
          { "retry-after": retryAfter },
        );
        return;
      }
      if (forwarded) {
        record("loop");
        sendPlain(
          res,
          508,
          `litefs-node forward: this write was already forwarded once (${LOOP_HEADER}: ${String(req.headers[LOOP_HEADER])}) and reached a replica; not forwarding again`,
        );
        return;
      }
      const primary = state.primary;
      if (primary === null) {
        record("no-primary");
        sendPlain(res, 503, "litefs-node forward: no primary is known right now; retry shortly", {
          "retry-after": retryAfter,
        });
        return;
      }
      await forwardTo(primary, req, res, body, "forwarded");
      return;
    }

    if (!isWrite && state.role === "replica" && !forwarded && (await awaitReadTxid(req, res))) return;

    let response: IncomingMessage;
    try {
      response = await sendUpstream(
        {
          base: settings.upstream,
          method,
          path: url,
          headers: upstreamRequestHeaders(req, body, trusted),
          body: body ?? (hasRequestBody(req) ? req : null),
          connectTimeoutMs,
          client: res,
        },
        agents,
      );
    } catch (error) {
      if (isUpstreamError(error) && error.failure === "aborted") return;
      logger?.warn({ err: error }, "litefs-node forward: local app unreachable");
      sendPlain(
        res,
        502,
        `litefs-node forward: the app at ${settings.upstream} is unreachable: ${error instanceof Error ? error.message : String(error)}`,
      );
      return;
    }

    // LiteFS's proxy does not forward a write off Fly.io: it answers 200, an empty body and
    // Fly-Replay. The app never saw the request, so replaying it once is safe.
    const replayTo = flyReplayInstance(response.headers["fly-replay"]);
    if (replayTo !== null) {
      response.resume();
      if (forwarded) {
        record("loop");
        sendPlain(
          res,
          508,
          `litefs-node forward: LiteFS asked to replay an already forwarded request to "${replayTo}"; not forwarding again`,
        );
        return;
      }
      if (body === null && hasRequestBody(req)) {
        record("no-address");
        sendPlain(
          res,
          502,
          `litefs-node forward: LiteFS asked to replay a ${method} to "${replayTo}", but its body was streamed, not kept (list the path in LITEFS_FORWARD_ALWAYS)`,
        );
        return;
      }
      await forwardTo(replayTo, req, res, body, "replayed");
      return;
    }
    if (response.headers["fly-replay"] !== undefined) {
      response.resume();
      record("no-address");
      sendPlain(
        res,
        502,
        `litefs-node forward: cannot act on "Fly-Replay: ${String(response.headers["fly-replay"])}" (no instance named)`,
      );
      return;
    }
    // A write reaching here was judged on a primary: its answer gets the TXID.
    await relay(res, response, isWrite && state.role === "primary");
  }

  const handleRequest = (req: IncomingMessage, res: ServerResponse): void => {
    handle(req, res).catch((error: unknown) => {
      logger?.error({ err: error }, "litefs-node forward: request failed");
      sendPlain(res, 500, `litefs-node forward: ${error instanceof Error ? error.message : String(error)}`);
    });
  };

  const handleUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    // An upgraded connection may stay open for hours: it counts against its own cap, not the request budget.
    if (!budgets.upgrades.take()) {
      record("over-capacity");
      refuseUpgrade(socket, 503, budgets.upgrades.exhausted(), { "retry-after": retryAfter });
      return;
    }
    upgradeSockets.add(socket);
    socket.once("close", () => {
      upgradeSockets.delete(socket);
      budgets.upgrades.give();
    });
    passUpgrade(settings.upstream, req, socket, head, connectTimeoutMs, trusted);
  };

  const server = http.createServer(handleRequest);
  server.on("upgrade", handleUpgrade);

  return {
    server,
    handleRequest,
    handleUpgrade,
    listen(address = settings.listen) {
      const { host, port } = parseListenAddress(address);
      return listenOn(server, port, host).then((bound) => {
        const urlHost = bound.family === "IPv6" ? `[${bound.address}]` : bound.address;
        return { host: bound.address, port: bound.port, url: `http://${urlHost}:${bound.port}` };
      });
    },
    close() {
      return new Promise((resolve) => {
        const done = (): void => {
          agents.http.destroy();
          agents.https.destroy();
          resolve();
        };
        for (const socket of upgradeSockets) socket.destroy();
        if (!server.listening) {
          done();
          return;
        }
        server.close(() => done());
        server.closeIdleConnections();
        // In-flight streams (SSE) would hold close() forever; a proxy shutting down cuts them.
        setTimeout(() => server.closeAllConnections(), 1000).unref();
      });
    },
  };
}
