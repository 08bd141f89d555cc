// TXIDs on the HTTP side: the `__txid` cookie LiteFS's proxy sets and the litefs-txid header
// (parsing and formatting live in litefs/txid.ts).

import { formatTxid, parseTxid } from "../litefs/txid.js";

/** The cookie LiteFS's proxy sets after a write on the primary. */
export const TXID_COOKIE = "__txid";
/** The response/request header litefs-node uses for clients that do not keep cookies. */
export const TXID_HEADER = "litefs-txid";

/** The value of one cookie in a `Cookie` request header, or null. */
export function readCookie(cookieHeader: string | readonly string[] | undefined | null, name: string): string | null {
  if (cookieHeader == null) return null;
  const headers = typeof cookieHeader === "string" ? [cookieHeader] : cookieHeader;
  for (const header of headers) {
    for (const part of header.split(";")) {
      const eq = part.indexOf("=");
      if (eq < 0) continue;
      if (part.slice(0, eq).trim() !== name) continue;
      let value = part.slice(eq + 1).trim();
      if (value.startsWith('"') && value.endsWith('"') && value.length >= 2) value = value.slice(1, -1);
      return value;
    }
  }
  return null;
}

/**
 * The TXID a client sent back: our header first (API clients), then LiteFS's cookie (browsers).
 * A malformed value is ignored rather than refused: a stale or garbled cookie must not break reads.
 */
export function requestTxid(headers: { readonly [name: string]: string | string[] | undefined }): bigint | null {
  const header = headers[TXID_HEADER];
  const fromHeader = parseTxid(Array.isArray(header) ? header[0] : header);
  if (fromHeader !== null) return fromHeader;
  return parseTxid(readCookie(headers["cookie"], TXID_COOKIE));
}

/** The TXID in a `Set-Cookie: __txid=...` response header (LiteFS's proxy on the primary), or null. */
export function setCookieTxid(setCookie: string | readonly string[] | undefined | null): bigint | null {
  if (setCookie == null) return null;
  const headers = typeof setCookie === "string" ? [setCookie] : setCookie;
  for (const header of headers) {
    const first = header.split(";")[0] ?? "";
    const eq = first.indexOf("=");
    if (eq < 0 || first.slice(0, eq).trim() !== TXID_COOKIE) continue;
    const txid = parseTxid(first.slice(eq + 1));
    if (txid !== null) return txid;
  }
  return null;
}

/** A `Set-Cookie` value shaped like LiteFS's own (`Path=/; Expires=+5m; HttpOnly`). */
export function txidSetCookie(txid: bigint, now: Date = new Date()): string {
  const expires = new Date(now.getTime() + 5 * 60_000).toUTCString();
  return `${TXID_COOKIE}=${formatTxid(txid)}; Path=/; Expires=${expires}; HttpOnly`;
}
