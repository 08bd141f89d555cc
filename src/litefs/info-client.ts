// `GET /info` of the LiteFS HTTP API (v0.5.14), pretty-printed JSON:
//   {"clusterID":"LFS…","isPrimary":true,"candidate":true,"path":"/srv/node-a/data",
//    "primary":{"hostname":"node-a"}}
// On a replica that lost its primary, primary.hostname is "". Unlike a missing `.primary`, this
// is unambiguous, but it costs an HTTP round trip: for status and startup, not the write path.
import { LiteFSError } from "../errors.js";

export interface LiteFSInfo {
  readonly clusterId: string;
  readonly isPrimary: boolean;
  readonly candidate: boolean;
  /** LiteFS's data directory. */
  readonly path: string;
  /** The primary's lease hostname, null when none is known. */
  readonly primaryHostname: string | null;
}

/** Decodes an /info body; throws LiteFSError (LITEFS_API) naming what is missing. */
export function parseInfo(body: unknown): LiteFSInfo {
  const fail = (why: string): never => {
    throw new LiteFSError("LITEFS_API", `invalid LiteFS /info response: ${why}`);
  };
  if (typeof body !== "object" || body === null || Array.isArray(body)) return fail("not a JSON object");
  const b = body as Record<string, unknown>;
  if (typeof b["isPrimary"] !== "boolean") fail("isPrimary is not a boolean");
  const primary = b["primary"];
  let hostname: unknown = "";
  if (primary !== undefined && primary !== null) {
    if (typeof primary !== "object") fail("primary is not an object");
    hostname = (primary as Record<string, unknown>)["hostname"] ?? "";
    if (typeof hostname !== "string") fail("primary.hostname is not a string");
  }
  return {
    clusterId: typeof b["clusterID"] === "string" ? b["clusterID"] : "",
    isPrimary: b["isPrimary"] as boolean,
    candidate: b["candidate"] === true,
    path: typeof b["path"] === "string" ? b["path"] : "",
    primaryHostname: (hostname as string) || null,
  };
}

export interface FetchInfoOptions {
  /** Default 2000 ms; the request is aborted after it (LiteFSError LITEFS_TIMEOUT). */
  readonly timeoutMs?: number;
  readonly signal?: AbortSignal;
  readonly fetch?: typeof fetch;
}

/** `GET <baseUrl>/info`. Throws LiteFSError: LITEFS_TIMEOUT on timeout, LITEFS_API otherwise. */
export async function fetchInfo(baseUrl: string, options: FetchInfoOptions = {}): Promise<LiteFSInfo> {
  const fetchImpl = options.fetch ?? globalThis.fetch;
  const timeoutMs = options.timeoutMs ?? 2000;
  const url = new URL("/info", baseUrl).toString();
  const timeout = AbortSignal.timeout(timeoutMs);
  const signal = options.signal ? AbortSignal.any([options.signal, timeout]) : timeout;
  let text: string;
  try {
    const response = await fetchImpl(url, { signal, headers: { accept: "application/json" } });
    text = await response.text();
    if (response.status !== 200) {
      throw new LiteFSError("LITEFS_API", `LiteFS ${url} answered HTTP ${response.status}: ${text.slice(0, 200)}`);
    }
  } catch (error) {
    if (error instanceof LiteFSError) throw error;
    if (timeout.aborted && !options.signal?.aborted) {
      throw new LiteFSError("LITEFS_TIMEOUT", `LiteFS ${url} did not answer within ${timeoutMs} ms`, { cause: error });
    }
    const cause = (error as { cause?: unknown }).cause;
    const detail =
      cause instanceof Error
        ? `${(error as Error).message}: ${cause.message}`
        : String((error as { message?: unknown }).message ?? error);
    throw new LiteFSError("LITEFS_API", `cannot reach LiteFS at ${url}: ${detail}`, { cause: error });
  }
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch (error) {
    throw new LiteFSError(
      "LITEFS_API",
      `invalid LiteFS /info response from ${url}: not JSON (${(error as Error).message})`,
    );
  }
  return parseInfo(body);
}
