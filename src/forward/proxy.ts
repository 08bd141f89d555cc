// The write-forwarding reverse proxy each node runs in front of its app (or of LiteFS's proxy).
// Reads pass through; writes on a replica go to the primary's app; Fly-Replay answers from LiteFS's
// proxy are replayed; reads carrying a TXID wait for this replica to reach it.
import http, { type IncomingMessage, type ServerResponse } from "node:http";
import { listenOn } from "../net-io.js";
import type { Duplex } from "node:stream";
import type { Logger } from "pino";
import type { LiteFSNodeMetrics } from "../health/metrics.js";
import type { NodeStateView, RaftMetricsSource } from "../health/node-view.js";
import { sendPlain } from "./http-io.js";
import { handleProxyRequest } from "./handle-request.js";
import { createProxyContext, record, type ProxyContext } from "./proxy-context.js";
import { parseListenAddress, type ForwardSettings } from "./settings.js";
import { passUpgrade, refuseUpgrade } from "./upgrade.js";
import type { TxidSource } from "./wait-for-txid.js";

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

export function createForwardingProxy(options: ForwardingProxyOptions): ForwardingProxy {
  const ctx = createProxyContext(options);
  const { settings, logger, budgets } = ctx;
  const upgradeSockets = new Set<Duplex>();

  const handleRequest = (req: IncomingMessage, res: ServerResponse): void => {
    handleProxyRequest(ctx, req, res).catch((error: unknown) => {
      logger?.error({ err: error }, "litefs-node forward: request failed");
      sendPlain(res, 500, `litefs-node forward: ${error instanceof Error ? error.message : String(error)}`);
    });
  };

  const handleUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    // An upgraded connection may stay open for hours: it counts against its own cap, not the request budget.
    if (!budgets.upgrades.take()) {
      record(ctx, "over-capacity");
      refuseUpgrade(socket, 503, budgets.upgrades.exhausted(), { "retry-after": ctx.retryAfter });
      return;
    }
    upgradeSockets.add(socket);
    socket.once("close", () => {
      upgradeSockets.delete(socket);
      budgets.upgrades.give();
    });
    passUpgrade(settings.upstream, req, socket, head, ctx.connectTimeoutMs, ctx.trusted);
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
    close: () => closeProxy(ctx, server, upgradeSockets),
  };
}

/** Stops accepting, ends idle keep-alive connections and upgrades, then frees the upstream agents. */
function closeProxy(ctx: ProxyContext, server: http.Server, upgradeSockets: Set<Duplex>): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      ctx.agents.http.destroy();
      ctx.agents.https.destroy();
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
}
