// What every part of one forwarding proxy shares: its settings, budgets, upstream agents and metrics.
// Built once per proxy and passed to plain functions, so the per-request path allocates nothing for it.
import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from "node:http";
import type { Logger } from "pino";
import type { ForwardOutcome, LiteFSNodeMetrics } from "../health/metrics.js";
import type { RaftMetricsSource } from "../health/node-view.js";
import { hasRequestBody, sendPlain } from "./http-io.js";
import { createProxyBudgets, type Allowance, type ProxyBudgets } from "./budget.js";
import { trustedPeers, type TrustedPeers } from "./forwarded-headers.js";
import type { ForwardSettings } from "./settings.js";
import { createUpstreamAgents, type UpstreamAgents } from "./upstream.js";
import type { ForwardingNodeView, ForwardingProxyOptions } from "./proxy.js";

const DEFAULT_CONNECT_TIMEOUT_MS = 5000;

export interface ProxyContext {
  readonly node: ForwardingNodeView;
  readonly settings: ForwardSettings;
  readonly metrics: LiteFSNodeMetrics | undefined;
  readonly logger: Logger | undefined;
  /** Database whose TXID read-your-writes tracks. */
  readonly db: string;
  readonly connectTimeoutMs: number;
  /** The Retry-After value of every 503, as sent. */
  readonly retryAfter: string;
  /** The loop-protection header's value on a forwarded request. */
  readonly loopValue: string;
  /** Set LiteFS's `__txid` cookie after a write when the app's answer has none. */
  readonly setCookie: boolean;
  readonly currentTxid: (db: string) => bigint | null | Promise<bigint | null>;
  readonly agents: UpstreamAgents;
  readonly budgets: ProxyBudgets;
  readonly trusted: TrustedPeers;
  readonly healthEnabled: boolean;
  readonly raft: RaftMetricsSource | undefined;
}

export function createProxyContext(options: ForwardingProxyOptions): ProxyContext {
  const { node, settings } = options;
  return {
    node,
    settings,
    metrics: options.metrics,
    logger: options.logger,
    db: settings.db ?? options.db,
    connectTimeoutMs: options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS,
    retryAfter: String(options.retryAfterSeconds ?? 1),
    loopValue: options.nodeId ?? "1",
    setCookie: options.txidCookie ?? true,
    currentTxid: options.currentTxid ?? ((name: string) => node.txid(name)),
    agents: createUpstreamAgents(),
    budgets: createProxyBudgets(settings),
    trusted: trustedPeers(settings.trustedProxies),
    healthEnabled: options.health !== undefined && options.health !== false,
    raft: typeof options.health === "object" ? options.health.raft : undefined,
  };
}

export function record(ctx: ProxyContext, outcome: ForwardOutcome): void {
  ctx.metrics?.recordForward(outcome);
}

/** Answers the request here, in plain text, and counts it as `outcome`. */
export function refuse(
  ctx: ProxyContext,
  res: ServerResponse,
  outcome: ForwardOutcome,
  status: number,
  message: string,
  headers?: OutgoingHttpHeaders,
): void {
  record(ctx, outcome);
  sendPlain(res, status, message, headers);
}

/** 503 + Retry-After for a spent budget; a body the client is still sending is discarded, not kept. */
export function overCapacity(ctx: ProxyContext, req: IncomingMessage, res: ServerResponse, allowance: Allowance): void {
  const unread = !req.readableEnded && hasRequestBody(req);
  if (unread) req.resume();
  refuse(ctx, res, "over-capacity", 503, allowance.exhausted(), {
    "retry-after": ctx.retryAfter,
    ...(unread ? { connection: "close" } : {}),
  });
}
