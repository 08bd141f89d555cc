// Who may set X-Forwarded-*: trusted peers by IP / CIDR (IPv4-mapped IPv6 peers included), and
// the budgets' allowance arithmetic.
import type { IncomingMessage, OutgoingHttpHeaders } from "node:http";
import { describe, expect, it } from "vitest";
import { isHostName, parseAddressBlock } from "../../src/config/addresses.js";
import { Allowance } from "../../src/forward/budget.js";
import { setForwardedHeaders, trustedPeers } from "../../src/forward/forwarded-headers.js";

const fakeRequest = (remoteAddress: string, headers: Record<string, string>): IncomingMessage =>
  ({ socket: { remoteAddress }, headers }) as unknown as IncomingMessage;

describe("trusted peers", () => {
  const peers = trustedPeers(["10.0.0.0/8", "::1", "192.168.1.7"]);

  it("match addresses, blocks and IPv4 peers seen through a dual-stack socket", () => {
    expect(peers.trusts("10.200.3.4")).toBe(true);
    expect(peers.trusts("::ffff:10.200.3.4")).toBe(true);
    expect(peers.trusts("::1")).toBe(true);
    expect(peers.trusts("192.168.1.7")).toBe(true);
    expect(peers.trusts("192.168.1.8")).toBe(false);
    expect(peers.trusts("11.0.0.1")).toBe(false);
    expect(peers.trusts(undefined)).toBe(false);
    expect(trustedPeers([]).trusts("127.0.0.1")).toBe(false);
  });

  it("an untrusted peer's X-Forwarded-* are replaced, a trusted one's extended", () => {
    const spoofed = {
      host: "app.example",
      "x-forwarded-for": "6.6.6.6",
      "x-forwarded-host": "evil",
      "x-forwarded-proto": "https",
      forwarded: "for=6.6.6.6",
    };
    const fromClient: OutgoingHttpHeaders = { ...spoofed };
    setForwardedHeaders(fromClient, fakeRequest("203.0.113.9", spoofed), peers);
    expect(fromClient).toMatchObject({
      "x-forwarded-for": "203.0.113.9",
      "x-forwarded-host": "app.example",
      "x-forwarded-proto": "http",
    });
    expect(fromClient["forwarded"]).toBeUndefined();
    const fromBalancer: OutgoingHttpHeaders = { ...spoofed };
    setForwardedHeaders(fromBalancer, fakeRequest("::ffff:10.0.0.2", spoofed), peers);
    expect(fromBalancer).toMatchObject({
      "x-forwarded-for": "6.6.6.6, ::ffff:10.0.0.2",
      "x-forwarded-host": "evil",
      "x-forwarded-proto": "https",
    });
  });

  it("address blocks parse strictly; names are never resolved", () => {
    expect(parseAddressBlock("10.0.0.0/8")).toEqual({
      ok: true,
      value: { address: "10.0.0.0", family: "ipv4", prefix: 8 },
    });
    expect(parseAddressBlock("fd00::/8")).toEqual({
      ok: true,
      value: { address: "fd00::", family: "ipv6", prefix: 8 },
    });
    expect(parseAddressBlock("::ffff:127.0.0.1")).toEqual({
      ok: true,
      value: { address: "127.0.0.1", family: "ipv4", prefix: 32 },
    });
    for (const bad of ["lb.internal", "10.0.0.0/33", "10.0.0.0/", "::1/129", "10.0.0.1/8x", ""])
      expect(parseAddressBlock(bad).ok).toBe(false);
  });

  it("node names are bare host names", () => {
    for (const good of ["node-a", "node_b.internal", "10.0.0.2", "A1"]) expect(isHostName(good)).toBe(true);
    for (const bad of ["127.0.0.1:18099/stolen?", "a b", "a..b", ".a", "a.", "user@host", "[::1]", ""])
      expect(isHostName(bad)).toBe(false);
  });
});

describe("Allowance", () => {
  it("takes only what fits and gives back without going negative", () => {
    const a = new Allowance("things", 10, "LITEFS_X");
    expect(a.take(6)).toBe(true);
    expect(a.take(5)).toBe(false);
    expect(a.inUse).toBe(6);
    expect(a.take(4)).toBe(true);
    a.give(10);
    a.give(1);
    expect(a.inUse).toBe(0);
    expect(a.exhausted()).toMatch(/things: limit 10, LITEFS_X/);
  });
});
