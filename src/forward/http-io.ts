// Small HTTP plumbing for the forwarding proxy: header hygiene, bounded body buffering, plain answers.
import type { IncomingHttpHeaders, IncomingMessage, OutgoingHttpHeaders, ServerResponse } from "node:http";
import type { Allowance } from "./budget.js";
import { setForwardedHeaders, type TrustedPeers } from "./forwarded-headers.js";

/** Marks a request one proxy already forwarded; a node that would forward it again answers 508. */
export const LOOP_HEADER = "litefs-node-forwarded";

// Hop-by-hop headers (RFC 9110 7.6.1) belong to one connection and are never passed on.
const HOP_BY_HOP = new Set([
  "connection",
  "keep-alive",
  "proxy-connection",
  "proxy-authenticate",
  "proxy-authorization",
  "te",
  "trailer",
  "transfer-encoding",
  "upgrade",
]);

/** Copies end-to-end headers, dropping hop-by-hop ones and any the Connection header names. */
export function endToEndHeaders(headers: IncomingHttpHeaders): OutgoingHttpHeaders {
  const named = connectionNamed(headers.connection);
  const out: OutgoingHttpHeaders = {};
  // for-in over the parser's own plain object: no entries array per request (this runs twice per request).
  for (const name in headers) {
    const value = headers[name];
    if (value === undefined || HOP_BY_HOP.has(name) || named?.has(name) === true) continue;
    out[name] = value;
  }
  return out;
}

/** Header names a Connection header lists (besides the usual keep-alive/close, which name none); null for none. */
function connectionNamed(connection: string | undefined): Set<string> | null {
  if (connection === undefined) return null;
  const lower = connection.toLowerCase();
  if (lower === "keep-alive" || lower === "close") return null;
  const named = new Set<string>();
  for (const token of lower.split(",")) {
    const name = token.trim();
    if (name !== "") named.add(name);
  }
  return named;
}

/** True when the request carries a body (a Content-Length above 0, or any Transfer-Encoding). */
export function hasRequestBody(req: IncomingMessage): boolean {
  const length = req.headers["content-length"];
  return req.headers["transfer-encoding"] !== undefined || (length !== undefined && length !== "0");
}

/**
 * Request headers for an upstream: end-to-end ones, X-Forwarded-* (see setForwardedHeaders), and
 * the body framing: the exact length of a buffered `body`, or, for a streamed one (`body` null),
 * the client's own length, or chunked when it sent none.
 */
export function upstreamRequestHeaders(
  req: IncomingMessage,
  body: Buffer | null,
  trusted: TrustedPeers,
  extra: OutgoingHttpHeaders = {},
): OutgoingHttpHeaders {
  const headers = endToEndHeaders(req.headers);
  // node:http already answered 100-continue (or the body is read), so the expectation is met.
  delete headers["expect"];
  if (body !== null) {
    if (body.length > 0 || req.headers["content-length"] !== undefined) headers["content-length"] = String(body.length);
  } else if (req.headers["content-length"] === undefined && req.headers["transfer-encoding"] !== undefined) {
    headers["transfer-encoding"] = "chunked";
  }
  setForwardedHeaders(headers, req, trusted);
  for (const name in extra) headers[name] = extra[name];
  return headers;
}

export type BodyResult =
  | { readonly ok: true; readonly body: Buffer }
  | { readonly ok: false; readonly reason: "too-large" | "over-budget" | "aborted" };

/**
 * Buffers a request body up to `limit` bytes so it can be forwarded or replayed, taking every byte
 * from `budget` (the proxy-wide allowance) first; the caller gives back `body.length` when done.
 * Refuses early on a Content-Length over the limit or the budget, without reading anything.
 */
export function readBody(req: IncomingMessage, limit: number, budget: Allowance): Promise<BodyResult> {
  const declared = Number(req.headers["content-length"]);
  if (Number.isFinite(declared) && declared > limit) return Promise.resolve({ ok: false, reason: "too-large" });
  if (req.readableEnded) return Promise.resolve({ ok: true, body: Buffer.alloc(0) });
  // A declared length is taken whole up front; a chunked body chunk by chunk.
  const upFront = Number.isFinite(declared) && declared > 0 ? declared : 0;
  if (!budget.take(upFront)) return Promise.resolve({ ok: false, reason: "over-budget" });
  return new Promise((resolve) => {
    // A declared length gets its buffer at once and chunks are copied in; a chunked body is
    // concatenated at the end (briefly twice its size, within the limit).
    const whole = upFront > 0 ? Buffer.allocUnsafe(upFront) : null;
    const chunks: Buffer[] = [];
    let size = 0;
    let taken = upFront;
    let settled = false;
    const settle = (result: BodyResult): void => {
      if (settled) return;
      settled = true;
      req.off("data", onData);
      req.off("end", onEnd);
      req.off("error", onAbort);
      req.off("close", onClose);
      // Keep exactly the body's size taken (a declared length can turn out longer than the body).
      if (result.ok) budget.give(taken - result.body.length);
      else budget.give(taken);
      resolve(result);
    };
    const refuse = (reason: "too-large" | "over-budget"): void => {
      chunks.length = 0;
      // Keep draining (and discarding) so the client can read our answer instead of a reset.
      req.resume();
      settle({ ok: false, reason });
    };
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > limit) return refuse("too-large");
      if (size > taken) {
        if (!budget.take(size - taken)) return refuse("over-budget");
        taken = size;
      }
      if (whole !== null && size <= whole.length) chunk.copy(whole, size - chunk.length);
      else chunks.push(chunk);
    };
    const onEnd = (): void =>
      settle({ ok: true, body: whole !== null ? whole.subarray(0, size) : Buffer.concat(chunks, size) });
    const onAbort = (): void => settle({ ok: false, reason: "aborted" });
    const onClose = (): void => {
      if (!req.complete) onAbort();
    };
    req.on("data", onData);
    req.on("end", onEnd);
    req.on("error", onAbort);
    req.on("close", onClose);
  });
}

/** A short plain-text answer of the proxy itself (never of the app). */
export function sendPlain(
  res: ServerResponse,
  status: number,
  message: string,
  headers: OutgoingHttpHeaders = {},
): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const body = `${message}\n`;
  res.writeHead(status, {
    ...headers,
    "content-type": "text/plain; charset=utf-8",
    "content-length": Buffer.byteLength(body),
  });
  res.end(body);
}

/** Parses `Fly-Replay: instance=<host>` (fields separated by `;` or `,`); null when it names no instance. */
export function flyReplayInstance(value: string | string[] | undefined): string | null {
  if (value === undefined) return null;
  const text = Array.isArray(value) ? value.join(";") : value;
  for (const field of text.split(/[;,]/)) {
    const eq = field.indexOf("=");
    if (eq < 0) continue;
    if (field.slice(0, eq).trim().toLowerCase() !== "instance") continue;
    const host = field
      .slice(eq + 1)
      .trim()
      .replace(/^"|"$/g, "");
    if (host !== "") return host;
  }
  return null;
}

/** Methods that do not write; anything else is forwarded to the primary. */
export const SAFE_METHODS: ReadonlySet<string> = new Set(["GET", "HEAD", "OPTIONS"]);

/** True when `pathname` is one of the prefixes, or lies below one (segment boundary). */
export function matchesPathPrefix(pathname: string, prefixes: readonly string[]): boolean {
  return prefixes.some((p) => pathname === p || pathname.startsWith(p.endsWith("/") ? p : `${p}/`));
}

export function pathnameOf(url: string): string {
  const q = url.search(/[?#]/);
  return q < 0 ? url : url.slice(0, q);
}
