// Small HTTP plumbing for the forwarding proxy: header hygiene, bounded body buffering, plain answers.
import type { IncomingHttpHeaders, IncomingMessage, OutgoingHttpHeaders, ServerResponse } from "node:http";

/** Marks a request one proxy already forwarded; a node that would forward it again answers 508. */
export const LOOP_HEADER = "litefs-node-forwarded";

// Hop-by-hop headers (RFC 9110 7.6.1) belong to one connection and are never passed on.
const HOP_BY_HOP = new Set(["connection", "keep-alive", "proxy-connection", "proxy-authenticate", "proxy-authorization", "te", "trailer", "transfer-encoding", "upgrade"]);

/** Copies end-to-end headers, dropping hop-by-hop ones and any the Connection header names. */
export function endToEndHeaders(headers: IncomingHttpHeaders): OutgoingHttpHeaders {
  const named = new Set(
    String(headers.connection ?? "")
      .split(",")
      .map((h) => h.trim().toLowerCase())
      .filter((h) => h !== ""),
  );
  const out: OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined || HOP_BY_HOP.has(name) || named.has(name)) continue;
    out[name] = value;
  }
  return out;
}

/** Request headers for an upstream: end-to-end ones, the exact body length, X-Forwarded-*. */
export function upstreamRequestHeaders(req: IncomingMessage, body: Buffer, extra: OutgoingHttpHeaders = {}): OutgoingHttpHeaders {
  const headers = endToEndHeaders(req.headers);
  // The body is already read (100-continue answered by node:http), so the expectation is met.
  delete headers["expect"];
  if (body.length > 0 || req.headers["content-length"] !== undefined) headers["content-length"] = String(body.length);
  const remote = req.socket.remoteAddress;
  if (remote) {
    const prior = req.headers["x-forwarded-for"];
    headers["x-forwarded-for"] = prior ? `${Array.isArray(prior) ? prior.join(", ") : prior}, ${remote}` : remote;
  }
  headers["x-forwarded-proto"] ??= "encrypted" in req.socket && req.socket.encrypted ? "https" : "http";
  if (req.headers.host !== undefined) headers["x-forwarded-host"] ??= req.headers.host;
  return { ...headers, ...extra };
}

export type BodyResult = { readonly ok: true; readonly body: Buffer } | { readonly ok: false; readonly reason: "too-large" | "aborted" };

/**
 * Buffers a request body up to `limit` bytes so it can be forwarded or replayed. Refuses early on
 * a Content-Length over the limit, without reading anything.
 */
export function readBody(req: IncomingMessage, limit: number): Promise<BodyResult> {
  const declared = Number(req.headers["content-length"]);
  if (Number.isFinite(declared) && declared > limit) return Promise.resolve({ ok: false, reason: "too-large" });
  if (req.readableEnded) return Promise.resolve({ ok: true, body: Buffer.alloc(0) });
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let settled = false;
    const settle = (result: BodyResult): void => {
      if (settled) return;
      settled = true;
      req.off("data", onData);
      req.off("end", onEnd);
      req.off("error", onAbort);
      req.off("close", onClose);
      resolve(result);
    };
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > limit) {
        // Keep draining (and discarding) so the client can read our 413 instead of a reset.
        req.resume();
        settle({ ok: false, reason: "too-large" });
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = (): void => settle({ ok: true, body: Buffer.concat(chunks, size) });
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
export function sendPlain(res: ServerResponse, status: number, message: string, headers: OutgoingHttpHeaders = {}): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const body = `${message}\n`;
  res.writeHead(status, { ...headers, "content-type": "text/plain; charset=utf-8", "content-length": Buffer.byteLength(body) });
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
    const host = field.slice(eq + 1).trim().replace(/^"|"$/g, "");
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
