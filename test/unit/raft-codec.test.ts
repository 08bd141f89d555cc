import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { decodeMessage, encodeMessage, RaftCodecError, DEFAULT_CODEC_LIMITS } from "../../src/raft/codec.js";
import type { Entry, Message, MessageType } from "../../src/raft/types.js";

const TYPES: MessageType[] = [
  "preVote",
  "preVoteResp",
  "vote",
  "voteResp",
  "app",
  "appResp",
  "heartbeat",
  "heartbeatResp",
  "snap",
  "readIndex",
  "readIndexResp",
  "timeoutNow",
];
const safe = fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER });
const small = fc.integer({ min: 0, max: 1000 });
const id = fc.string({ minLength: 1, maxLength: 20 });
const bytes = fc.uint8Array({ maxLength: 64 });

const messageArb: fc.Arbitrary<Message> = fc
  .record({
    type: fc.constantFrom(...TYPES),
    clusterId: fc.string({ maxLength: 30 }),
    from: id,
    to: id,
    term: safe,
    index: small,
    logTerm: safe,
    commit: safe,
    reject: fc.boolean(),
    rejectHint: safe,
    entryTerms: fc.array(
      fc.tuple(fc.integer({ min: 0, max: 3 }), fc.constantFrom<"normal" | "noop">("normal", "noop"), bytes),
      { maxLength: 6 },
    ),
    snapshot: fc.option(
      fc.record({ meta: fc.record({ index: safe, term: safe, voters: fc.array(id, { maxLength: 5 }) }), data: bytes }),
      { nil: null },
    ),
    context: fc.option(bytes, { nil: null }),
  })
  .map(({ entryTerms, ...m }) => {
    let term = 1;
    const entries: Entry[] = entryTerms.map(([bump, type, data], k) => {
      term += bump;
      return { term, index: m.index + 1 + k, type, data };
    });
    return { ...m, entries };
  });

const base: Message = {
  type: "app",
  clusterId: "c1",
  from: "a",
  to: "b",
  term: 3,
  index: 4,
  logTerm: 2,
  entries: [
    { term: 3, index: 5, type: "normal", data: new Uint8Array([1]) },
    { term: 3, index: 6, type: "noop", data: new Uint8Array() },
  ],
  commit: 4,
  reject: false,
  rejectHint: 0,
  snapshot: null,
  context: null,
};

describe("raft message codec", () => {
  it("round-trips every field of every message type", () => {
    fc.assert(
      fc.property(messageArb, (m) => {
        expect(decodeMessage(encodeMessage(m))).toEqual(m);
      }),
      { numRuns: 300 },
    );
  });

  it("never throws anything but RaftCodecError on arbitrary input", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (b) => {
        try {
          decodeMessage(b);
        } catch (e) {
          expect(e).toBeInstanceOf(RaftCodecError);
        }
      }),
      { numRuns: 500 },
    );
  });

  it("rejects every truncation of a valid message", () => {
    const full = encodeMessage({
      ...base,
      snapshot: { meta: { index: 1, term: 1, voters: ["a"] }, data: new Uint8Array(3) },
      context: new Uint8Array([1]),
    });
    for (let n = 0; n < full.length; n++) {
      expect(() => decodeMessage(full.subarray(0, n))).toThrow(RaftCodecError);
    }
  });

  it("rejects trailing bytes, unknown versions, types and flags", () => {
    const good = encodeMessage(base);
    expect(() => decodeMessage(Buffer.concat([good, Buffer.from([0])]))).toThrow(/1 unexpected trailing bytes/);
    const v = Buffer.from(good);
    v[0] = 9;
    expect(() => decodeMessage(v)).toThrow(/unsupported codec version 9/);
    const t = Buffer.from(good);
    t[1] = 200;
    expect(() => decodeMessage(t)).toThrow(/unknown type code 200/);
    const f = Buffer.from(good);
    f[2] = 0x80;
    expect(() => decodeMessage(f)).toThrow(/unknown flag bits 0x80/);
  });

  it("bounds entry counts, entry sizes and contexts before allocating", () => {
    const limits = { ...DEFAULT_CODEC_LIMITS, maxEntries: 1, maxEntryBytes: 4, maxContextBytes: 2 };
    expect(() => decodeMessage(encodeMessage(base), limits)).toThrow(/2 entries, more than 1/);
    const big = { ...base, entries: [{ term: 3, index: 5, type: "normal" as const, data: new Uint8Array(5) }] };
    expect(() => decodeMessage(encodeMessage(big), limits)).toThrow(/entry data length 5 exceeds the limit 4/);
    const ctx = { ...base, entries: [], context: new Uint8Array(3) };
    expect(() => decodeMessage(encodeMessage(ctx), limits)).toThrow(/context length 3 exceeds the limit 2/);
    expect(() => encodeMessage(big, limits)).toThrow(/entry data is 5 bytes/);
  });

  it("rejects non-consecutive entries and entries that do not follow prevLogIndex", () => {
    const gap = { ...base, entries: [base.entries[0]!, { ...base.entries[1]!, index: 7 }] };
    expect(() => decodeMessage(encodeMessage(gap))).toThrow(/not consecutive/);
    const backwards = { ...base, entries: [{ ...base.entries[0]!, term: 5 }, base.entries[1]!] };
    expect(() => decodeMessage(encodeMessage(backwards))).toThrow(/not consecutive/);
    const off = { ...base, index: 2 };
    expect(() => decodeMessage(encodeMessage(off))).toThrow(/prevLogIndex 2 carries entries from 5/);
  });

  it("refuses integers beyond 2^53 and empty node ids", () => {
    expect(() => encodeMessage({ ...base, term: 2 ** 53 })).toThrow(/term must be a non-negative safe integer/);
    const good = encodeMessage({ ...base, entries: [] });
    // term is the first u64 after version/type/flags and the three strings (c1, a, b).
    const termAt = 3 + (2 + 2) + (2 + 1) + (2 + 1);
    const huge = Buffer.from(good);
    huge.writeUInt32BE(0xffffffff, termAt);
    expect(() => decodeMessage(huge)).toThrow(/term .* exceeds 2\^53/);
    expect(() => decodeMessage(encodeMessage({ ...base, from: "" }))).toThrow(/empty from\/to/);
  });
});
