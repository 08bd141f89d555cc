// Framework glue for the health and metrics endpoints: one framework-free core (`answerHealthRequest`)
// and thin adapters for node:http, Express/Connect and fetch-API (Hono, Remix, Bun-style) apps.
import type { IncomingMessage, ServerResponse } from "node:http";
import type { LiteFSNodeMetrics } from "./metrics.js";
import { healthReport, healthStatusCode, type HealthOptions } from "./status.js";

export const HEALTH_PATH = "/litefs-node/health";
export const METRICS_PATH = "/litefs-node/metrics";

export interface HealthEndpointsOptions extends HealthOptions {
  /** Served at `metricsPath` when given. */
  readonly metrics?: LiteFSNodeMetrics;
  readonly healthPath?: string;
  readonly metricsPath?: string;
}

export interface EndpointAnswer {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}

/** Answers a request for one of our endpoints; null when the path is not ours (let the app handle it). */
export async function answerHealthRequest(
  method: string,
  url: string,
  options: HealthEndpointsOptions,
): Promise<EndpointAnswer | null> {
  const pathname = pathOf(url);
  const healthPath = options.healthPath ?? HEALTH_PATH;
  const metricsPath = options.metricsPath ?? METRICS_PATH;
  const isHealth = pathname === healthPath;
  const isMetrics = options.metrics !== undefined && pathname === metricsPath;
  if (!isHealth && !isMetrics) return null;
  if (method !== "GET" && method !== "HEAD") {
    return {
      status: 405,
      headers: { allow: "GET, HEAD", "content-type": "text/plain; charset=utf-8" },
      body: `${method} not allowed on ${pathname}\n`,
    };
  }
  const noStore = { "cache-control": "no-store" };
  if (isMetrics && options.metrics) {
    const text = await options.metrics.render();
    return {
      status: 200,
      headers: { ...noStore, "content-type": options.metrics.contentType },
      body: method === "HEAD" ? "" : text,
    };
  }
  const report = healthReport(options);
  const body = `${JSON.stringify(report)}\n`;
  return {
    status: healthStatusCode(report),
    headers: { ...noStore, "content-type": "application/json; charset=utf-8" },
    body: method === "HEAD" ? "" : body,
  };
}

function pathOf(url: string): string {
  const q = url.search(/[?#]/);
  const path = q < 0 ? url : url.slice(0, q);
  // Absolute-form request targets ("http://host/path") also reach proxies.
  if (/^https?:\/\//i.test(path)) {
    try {
      return new URL(path).pathname;
    } catch {
      return path;
    }
  }
  return path;
}

function send(res: ServerResponse, answer: EndpointAnswer): void {
  res.writeHead(answer.status, { ...answer.headers, "content-length": Buffer.byteLength(answer.body) });
  res.end(answer.body);
}

function sendError(res: ServerResponse, error: unknown): void {
  if (res.headersSent) {
    res.destroy(error instanceof Error ? error : undefined);
    return;
  }
  const body = `health endpoint failed: ${error instanceof Error ? error.message : String(error)}\n`;
  res.writeHead(500, { "content-type": "text/plain; charset=utf-8", "content-length": Buffer.byteLength(body) });
  res.end(body);
}

/** A complete node:http request listener: our endpoints, 404 for anything else. */
export function createHealthRequestListener(
  options: HealthEndpointsOptions,
): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    answerHealthRequest(req.method ?? "GET", req.url ?? "/", options).then(
      (answer) =>
        send(
          res,
          answer ?? { status: 404, headers: { "content-type": "text/plain; charset=utf-8" }, body: "not found\n" },
        ),
      (error: unknown) => sendError(res, error),
    );
  };
}

/** Express/Connect middleware: answers our endpoints, calls next() for everything else. */
export function healthMiddleware(
  options: HealthEndpointsOptions,
): (req: IncomingMessage, res: ServerResponse, next: (error?: unknown) => void) => void {
  return (req, res, next) => {
    answerHealthRequest(req.method ?? "GET", req.url ?? "/", options).then(
      (answer) => (answer ? send(res, answer) : next()),
      (error: unknown) => next(error),
    );
  };
}

/**
 * fetch-API handler (`Request` -> `Response`) for Hono/Remix-style apps. Answers 404 for paths
 * that are not ours; use `matchesHealthRequest` first to fall through instead.
 */
export function healthFetchHandler(options: HealthEndpointsOptions): (request: Request) => Promise<Response> {
  return async (request) => {
    const answer = await answerHealthRequest(request.method, request.url, options);
    if (!answer)
      return new Response("not found\n", { status: 404, headers: { "content-type": "text/plain; charset=utf-8" } });
    return new Response(request.method === "HEAD" ? null : answer.body, {
      status: answer.status,
      headers: answer.headers,
    });
  };
}

/** True when a fetch-API request is for one of our endpoints. */
export function matchesHealthRequest(
  request: Request,
  options: Pick<HealthEndpointsOptions, "healthPath" | "metricsPath" | "metrics">,
): boolean {
  const pathname = pathOf(request.url);
  return (
    pathname === (options.healthPath ?? HEALTH_PATH) ||
    (options.metrics !== undefined && pathname === (options.metricsPath ?? METRICS_PATH))
  );
}
