// One request to an upstream (the local app, LiteFS's proxy, or the primary's app). Exactly one
// attempt, never a retry: a write that might have reached the primary must not be sent again.
//
// Transport decision (issue 15, re-judged in the polish pass): node:http stays, here, in
// upgrade.ts and in proxy.ts's relay; undici and proxy libraries were judged and not taken.
// - First measurement (two bare pass-through proxies without our decision logic, open-loop 1,000
//   req/s, 2-core machine at load 17-20): undici 7.30's Pool spent 173 / 197 µs of CPU per GET /
//   POST, node:http with a keep-alive Agent 225 / 278.
// - Second measurement (the whole proxy, rounds alternating between three builds run side by
//   side, load 9-12): node:http before the polish pass 243 / 245 µs per GET / POST, node:http
//   after it (one node snapshot per request, header copies without entries arrays, Sets or
//   spreads) 220 / 253, the same proxy with sendUpstream on undici's Pool.request 230 / 243. The
//   bare-proxy gain does not show once the decision logic, the relay and the syscalls are in:
//   a profile puts about a third of the proxy's busy time in the three writes per request
//   (upstream request, answer to the client) and most of the rest in node:http's server side,
//   which undici does not replace. Round-to-round noise was +-30 µs. Handing http.request its
//   headers as a flat list (flatHeaders below) then took the POST from 308-315 to 275-290 µs
//   in two runs (GET 255 -> 238, 285 -> 280).
// - Against it besides: a 2.2 MB runtime dependency for an optional part of the library (undici 8
//   needs Node 22); undici's upgrade() only resolves on a 101, so an app that declines a WebSocket
//   upgrade (an answer the client must see) needs node:http anyway; its answers carry no status
//   text, and headers such as transfer-encoding must be dropped before it accepts them.
// http-proxy-3 is node:http underneath (the same cost plus a layer), @fastify/reply-from needs
// Fastify. Upstream connections are kept alive and reused (test: forward-edges "upstream
// connections"). If the transport is swapped after all, swap sendUpstream's body behind this
// same UpstreamRequest interface (the decision logic calls nothing else).
import http, { type IncomingMessage, type OutgoingHttpHeaders, type ServerResponse } from "node:http";
import https from "node:https";
import type { Readable } from "node:stream";
import { hasErrorCode } from "../error-brand.js";

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
  /** The answer to the client: when it closes unfinished (the client went away), the request is aborted. */
  readonly client?: ServerResponse;
}

export type UpstreamFailure = "connect-failed" | "connect-timeout" | "broken" | "aborted";

export class UpstreamError extends Error {
  readonly code = "LITEFS_FORWARD_UPSTREAM";

  constructor(
    readonly failure: UpstreamFailure,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = "UpstreamError";
  }
}

/** True when `e` is an UpstreamError (`failure` says how), by its code (works across package copies). */
export function isUpstreamError(e: unknown): e is UpstreamError {
  return hasErrorCode(e, "LITEFS_FORWARD_UPSTREAM");
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

interface ParsedBase {
  readonly secure: boolean;
  readonly hostname: string;
  readonly port: string;
  readonly prefix: string;
  readonly origin: string;
  /** host[:port] as a Host header names it. */
  readonly host: string;
}

// Bases come from the settings (a handful of addresses), parsed once each: a URL parse per
// request showed up in the proxy's CPU profile. Bounded all the same.
const parsedBases = new Map<string, ParsedBase>();

function parseBase(base: string): ParsedBase {
  let parsed = parsedBases.get(base);
  if (parsed === undefined) {
    const url = new URL(base);
    parsed = {
      secure: url.protocol === "https:",
      hostname: url.hostname.replace(/^\[|\]$/g, ""),
      port: url.port,
      prefix: url.pathname.replace(/\/+$/, ""),
      origin: url.origin,
      host: url.host,
    };
    if (parsedBases.size >= 256) parsedBases.clear();
    parsedBases.set(base, parsed);
  }
  return parsed;
}

/**
 * Headers as the flat [name, value, ...] list http.request also takes: node:http then writes them
 * as they are instead of a setHeader() (validation, lower-casing, a map entry) per header. In that
 * form it adds no Host of its own, so a request that came without one gets the upstream's.
 */
function flatHeaders(headers: OutgoingHttpHeaders, host: string): string[] {
  const flat: string[] = [];
  let hasHost = false;
  for (const name in headers) {
    const value = headers[name];
    if (value === undefined) continue;
    if (name === "host") hasHost = true;
    if (Array.isArray(value)) for (const item of value) flat.push(name, item);
    else flat.push(name, String(value));
  }
  if (!hasHost) flat.push("host", host);
  return flat;
}

/** Sends the request; resolves with the response head (body still streaming), rejects with UpstreamError. */
export function sendUpstream(request: UpstreamRequest, agents: UpstreamAgents): Promise<IncomingMessage> {
  const base = parseBase(request.base);
  const { secure } = base;
  const client = secure ? https : http;
  // The path goes on as the client sent it (node:http's parser already refused malformed ones).
  const path = base.prefix + (request.path.startsWith("/") ? request.path : `/${request.path}`);
  const url = { origin: base.origin };
  return new Promise((resolve, reject) => {
    let connectTimer: NodeJS.Timeout | undefined;
    let connected = false;
    const outgoing = client.request({
      hostname: base.hostname,
      ...(base.port === "" ? {} : { port: base.port }),
      path,
      method: request.method,
      headers: flatHeaders(request.headers, base.host),
      agent: secure ? agents.https : agents.http,
    });
    const fail = (error: UpstreamError): void => {
      clearTimeout(connectTimer);
      outgoing.destroy();
      reject(error);
    };
    const onClientClose = (): void => {
      if (!request.client?.writableFinished) fail(new UpstreamError("aborted", "the client went away"));
    };
    request.client?.once("close", onClientClose);
    outgoing.on("socket", (socket) => {
      if (!socket.connecting) {
        connected = true;
        return;
      }
      connectTimer = setTimeout(
        () =>
          fail(
            new UpstreamError(
              "connect-timeout",
              `no connection to ${url.origin} within ${request.connectTimeoutMs} ms`,
            ),
          ),
        request.connectTimeoutMs,
      );
      socket.once(secure ? "secureConnect" : "connect", () => {
        connected = true;
        clearTimeout(connectTimer);
      });
    });
    outgoing.on("response", (response) => {
      clearTimeout(connectTimer);
      request.client?.off("close", onClientClose);
      resolve(response);
    });
    outgoing.on("error", (cause: Error) => {
      clearTimeout(connectTimer);
      request.client?.off("close", onClientClose);
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
