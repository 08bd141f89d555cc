// TXIDs as LiteFS writes them: 16 lowercase hex digits (`<db>-pos`, `/events` `txID`, the `__txid`
// cookie). We compare them only as bigint: as strings "a" > "10", and as JavaScript numbers
// 0x0020000000000001 == 0x0020000000000000 (past 2^53 doubles lose the low bits).
// The one place TXIDs are parsed and formatted: mount files, events, the proxy, health and the CLI use it.

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
