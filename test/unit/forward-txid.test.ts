import { describe, expect, it } from "vitest";
import { formatTxid, parseTxid, toTxid } from "../../src/litefs/txid.js";
import { readCookie, requestTxid, setCookieTxid, txidSetCookie } from "../../src/forward/txid.js";

describe("TXID parsing", () => {
  it("reads LiteFS's 16-hex form and shorter hex", () => {
    expect(parseTxid("0000000000000004")).toBe(4n);
    expect(parseTxid("ffffffffffffffff")).toBe((1n << 64n) - 1n);
    expect(parseTxid("A")).toBe(10n);
    expect(parseTxid(" 10 ")).toBe(16n);
  });

  it("rejects what is not a TXID", () => {
    for (const bad of ["", "xyz", "0x10", "-1", "00000000000000001", "1.5", null, undefined]) {
      expect(parseTxid(bad)).toBeNull();
    }
  });

  it("formats like LiteFS: 16 lowercase hex digits", () => {
    expect(formatTxid(4n)).toBe("0000000000000004");
    expect(formatTxid(0xabcn)).toBe("0000000000000abc");
    expect(() => formatTxid(-1n)).toThrow(RangeError);
    expect(() => formatTxid(1n << 64n)).toThrow(RangeError);
  });

  it("keeps TXIDs past 2^53 exact", () => {
    const big = "0020000000000001";
    expect(parseTxid(big)).toBe(0x20000000000001n);
    expect(parseTxid(big)).not.toBe(parseTxid("0020000000000000"));
    expect(formatTxid(parseTxid(big) as bigint)).toBe(big);
  });

  it("toTxid accepts bigint, hex string and safe integers only", () => {
    expect(toTxid(5n)).toBe(5n);
    expect(toTxid("10")).toBe(16n);
    expect(toTxid(16)).toBe(16n);
    expect(() => toTxid(2 ** 60)).toThrow(/safe integer/);
    expect(() => toTxid("nope")).toThrow(/not a TXID/);
    expect(() => toTxid(-1n)).toThrow(RangeError);
  });
});

describe("TXID in requests and responses", () => {
  it("reads the __txid cookie among others", () => {
    expect(readCookie("a=1; __txid=0000000000000007; b=2", "__txid")).toBe("0000000000000007");
    expect(readCookie(['x="y"', '__txid="000000000000000a"'], "__txid")).toBe("000000000000000a");
    expect(readCookie("x__txid=1", "__txid")).toBeNull();
    expect(readCookie(undefined, "__txid")).toBeNull();
  });

  it("prefers the LiteFS-TXID header over the cookie, and ignores garbage", () => {
    expect(requestTxid({ "litefs-txid": "0000000000000009", cookie: "__txid=0000000000000002" })).toBe(9n);
    expect(requestTxid({ cookie: "__txid=0000000000000002" })).toBe(2n);
    expect(requestTxid({ "litefs-txid": "garbage", cookie: "__txid=0000000000000002" })).toBe(2n);
    expect(requestTxid({ cookie: "__txid=zz" })).toBeNull();
    expect(requestTxid({})).toBeNull();
  });

  it("reads the TXID from LiteFS's Set-Cookie and writes one shaped like it", () => {
    const now = new Date("2026-11-22T20:32:20.000Z");
    const cookie = txidSetCookie(4n, now);
    expect(cookie).toBe("__txid=0000000000000004; Path=/; Expires=Sun, 22 Nov 2026 20:37:20 GMT; HttpOnly");
    expect(setCookieTxid(["session=abc; Path=/", cookie])).toBe(4n);
    expect(setCookieTxid("session=abc")).toBeNull();
    expect(setCookieTxid(undefined)).toBeNull();
  });
});
