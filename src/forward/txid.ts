// TXIDs as LiteFS writes them: 16 lowercase hex digits (`<db>-pos`, `/events` `txID`, the `__txid`
// cookie). We compare them only as bigint: as strings "a" > "10", and as JavaScript numbers
// 0x0020000000000001 == 0x0020000000000000 (past 2^53 doubles lose the low bits).

/** The cookie LiteFS's proxy sets after a write on the primary. */
export const TXID_COOKIE = "__txid";
/** The response/request header litefs-node uses for clients that do not keep cookies. */
export const TXID_HEADER = "litefs-txid";

const MAX_TXID = (1n << 64n) - 1n;
const HEX_TXID = /^[0-9a-fA-F]{1,16}$/;

/** Parses a hex TXID (1 to 16 hex digits, LiteFS pads to 16). Returns null for anything else. */
export function parseTxid(text: string | null | undefined): bigint | null {
  if (text == null) return null;
  const trimmed = text.trim();
  if (!HEX_TXID.test(trimmed)) return null;
  return BigInt(`0x${trimmed}`);
}

/** Formats a TXID the way LiteFS does: 16 lowercase hex digits. */
export function formatTxid(txid: bigint): string {
  if (txid < 0n || txid > MAX_TXID) throw new RangeError(`TXID out of range: ${txid}`);
  return txid.toString(16).padStart(16, "0");
}

/** Accepts what API callers have at hand: a bigint, a hex string, or a safe integer. */
export function toTxid(value: bigint | string | number): bigint {
  if (typeof value === "bigint") {
    if (value < 0n || value > MAX_TXID) throw new RangeError(`TXID out of range: ${value}`);
    return value;
  }
  if (typeof value === "number") {
    if (!Number.isSafeInteger(value) || value < 0) {
      throw new RangeError(`TXID ${value} is not a non-negative safe integer; pass a bigint or a hex string`);
    }
    return BigInt(value);
  }
  const parsed = parseTxid(value);
  if (parsed === null)
    throw new RangeError(`"${value}" is not a TXID (1 to 16 hex digits, as in LiteFS's __txid cookie)`);
  return parsed;
}

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
