// X-Forwarded-* on requests the proxy passes on. A client can send any header it likes, so the
// ones it sent are only kept when the peer is a configured trusted proxy (a load balancer in
// front of us); from anyone else they are overwritten with what this proxy saw itself.
import type { IncomingMessage, OutgoingHttpHeaders } from "node:http";
import { BlockList } from "node:net";
import { parseAddressBlock, unmapIPv4 } from "../config/addresses.js";

/** Peers whose X-Forwarded-* headers are believed. */
export interface TrustedPeers {
  trusts(remoteAddress: string | undefined): boolean;
}

/** Builds the trusted set from IP addresses / CIDR blocks (LITEFS_FORWARD_TRUSTED_PROXIES, already validated). */
export function trustedPeers(blocks: readonly string[]): TrustedPeers {
  const list = new BlockList();
  for (const text of blocks) {
    const parsed = parseAddressBlock(text);
    if (!parsed.ok) throw new RangeError(`trusted proxy ${parsed.message}`);
    list.addSubnet(parsed.value.address, parsed.value.prefix, parsed.value.family);
  }
  return {
    trusts(remoteAddress) {
      if (blocks.length === 0 || remoteAddress === undefined) return false;
      const address = unmapIPv4(remoteAddress);
      return list.check(address, address.includes(":") ? "ipv6" : "ipv4");
    },
  };
}

const joined = (value: string | string[] | undefined): string | undefined =>
  Array.isArray(value) ? value.join(", ") : value;

/**
 * Sets X-Forwarded-For/-Proto/-Host on `headers` (a copy of the request's end-to-end headers).
 * Trusted peer: its chain is kept and extended. Anyone else: the chain starts at the peer, and
 * proto/host are what this proxy saw; a client's RFC 7239 `Forwarded` is dropped likewise.
 */
export function setForwardedHeaders(headers: OutgoingHttpHeaders, req: IncomingMessage, trusted: TrustedPeers): void {
  const remote = req.socket.remoteAddress;
  const proto = "encrypted" in req.socket && req.socket.encrypted ? "https" : "http";
  if (trusted.trusts(remote)) {
    const prior = joined(req.headers["x-forwarded-for"]);
    if (remote) headers["x-forwarded-for"] = prior ? `${prior}, ${remote}` : remote;
    headers["x-forwarded-proto"] ??= proto;
    if (req.headers.host !== undefined) headers["x-forwarded-host"] ??= req.headers.host;
    return;
  }
  delete headers["forwarded"];
  delete headers["x-forwarded-for"];
  delete headers["x-forwarded-host"];
  if (remote) headers["x-forwarded-for"] = remote;
  headers["x-forwarded-proto"] = proto;
  if (req.headers.host !== undefined) headers["x-forwarded-host"] = req.headers.host;
}
