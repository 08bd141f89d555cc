// One request to an upstream (the local app, LiteFS's proxy, or the primary's app). Exactly one
// attempt, never a retry: a write that might have reached the primary must not be sent again.
import http, { type IncomingMessage, type OutgoingHttpHeaders } from "node:http";
import https from "node:https";
import type { Readable } from "node:stream";

export interface UpstreamRequest {
  /** Base address, e.g. http://10.0.0.1:8080 (a path prefix is kept). */
  readonly base: string;
  readonly method: string;
  /** Path and query as the client sent them. */
  readonly path: string;
  readonly headers: OutgoingHttpHeaders;
  /** A buffered body, the client's request streamed through (read once, never replayable), or none. */
  readonly body: Buffer | Readable | null;
  /** Give up when no TCP connection is up within this time (nothing was sent, so 502 is safe). */
  readonly connectTimeoutMs: number;
  /** Aborts the request when the client goes away. */
  readonly signal?: AbortSignal;
}

export type UpstreamFailure = "connect-failed" | "connect-timeout" | "broken" | "aborted";

export class UpstreamError extends Error {
  constructor(readonly failure: UpstreamFailure, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "UpstreamError";
  }
}

export interface UpstreamAgents {
  readonly http: http.Agent;
  readonly https: https.Agent;
}

export function createUpstreamAgents(): UpstreamAgents {
  return { http: new http.Agent({ keepAlive: true }), https: new https.Agent({ keepAlive: true }) };
}

/** Joins a base URL (which may carry a path prefix) and a request path. */
export function upstreamUrl(base: string, path: string): URL {
  const url = new URL(base);
  const prefix = url.pathname.replace(/\/+$/, "");
  const [p, q] = splitQuery(path.startsWith("/") ? path : `/${path}`);
  url.pathname = prefix + p;
  url.search = q;
  return url;
}

function splitQuery(path: string): [string, string] {
  const i = path.indexOf("?");
  return i < 0 ? [path, ""] : [path.slice(0, i), path.slice(i)];
}

/** Sends the request; resolves with the response head (body still streaming), rejects with UpstreamError. */
export function sendUpstream(request: UpstreamRequest, agents: UpstreamAgents): Promise<IncomingMessage> {
  const url = upstreamUrl(request.base, request.path);
  const secure = url.protocol === "https:";
  const client = secure ? https : http;
  return new Promise((resolve, reject) => {
    let connectTimer: NodeJS.Timeout | undefined;
    let connected = false;
    const outgoing = client.request(url, { method: request.method, headers: request.headers, agent: secure ? agents.https : agents.http });
    const fail = (error: UpstreamError): void => {
      clearTimeout(connectTimer);
      outgoing.destroy();
      reject(error);
    };
    const onAbort = (): void => fail(new UpstreamError("aborted", "the client went away"));
    request.signal?.addEventListener("abort", onAbort, { once: true });
    outgoing.on("socket", (socket) => {
      if (!socket.connecting) {
        connected = true;
        return;
      }
      connectTimer = setTimeout(
        () => fail(new UpstreamError("connect-timeout", `no connection to ${url.origin} within ${request.connectTimeoutMs} ms`)),
        request.connectTimeoutMs,
      );
      socket.once(secure ? "secureConnect" : "connect", () => {
        connected = true;
        clearTimeout(connectTimer);
      });
    });
    outgoing.on("response", (response) => {
      clearTimeout(connectTimer);
      request.signal?.removeEventListener("abort", onAbort);
      resolve(response);
    });
    outgoing.on("error", (cause: Error) => {
      clearTimeout(connectTimer);
      request.signal?.removeEventListener("abort", onAbort);
      reject(
        connected
          ? new UpstreamError("broken", `${url.origin} broke off the request: ${cause.message}`, { cause })
          : new UpstreamError("connect-failed", `cannot connect to ${url.origin}: ${cause.message}`, { cause }),
      );
    });
    if (request.body === null || Buffer.isBuffer(request.body)) outgoing.end(request.body ?? undefined);
    else request.body.pipe(outgoing);
  });
}
