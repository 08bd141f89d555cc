import { describe, expect, it } from "vitest";
import { decodeLiteFSEvent, type LiteFSEvent } from "../../src/litefs/events.js";
import { createJsonObjectSplitter } from "../../src/litefs/json-stream.js";
import { sameView, viewFromPrimaryStatus, type LiteFSView } from "../../src/litefs/view.js";
import { readLitefsFixture } from "../support/litefs-mount.js";

function split(chunks: string[]): { objects: string[]; junk: string[]; partial: boolean } {
  const objects: string[] = [];
  const junk: string[] = [];
  const splitter = createJsonObjectSplitter({ object: (t) => objects.push(t), junk: (m) => junk.push(m) });
  for (const c of chunks) splitter.push(c);
  return { objects, junk, partial: splitter.partial };
}

function decodeStream(text: string): LiteFSEvent[] {
  return split([text])
    .objects.map((t) => decodeLiteFSEvent(JSON.parse(t)))
    .filter((e): e is LiteFSEvent => e !== null);
}

describe("decoding the recorded /events streams", () => {
  it("primary: init isPrimary, then a tx with a bigint TXID", () => {
    expect(decodeStream(readLitefsFixture("events-primary.ndjson"))).toEqual([
      { type: "init", isPrimary: true, hostname: null },
      {
        type: "tx",
        db: "db",
        txid: 4n,
        postApplyChecksum: "a2fc350afcb62d33",
        pageSize: 4096,
        commit: 2,
        timestamp: "2026-11-22T20:32:20.628Z",
      },
    ]);
  });

  it("replica: init names the primary", () => {
    const events = decodeStream(readLitefsFixture("events-replica.ndjson"));
    expect(events[0]).toEqual({ type: "init", isPrimary: false, hostname: "node-a" });
    expect(events[1]).toMatchObject({ type: "tx", db: "db", txid: 4n });
  });

  it("replica that lost its primary: flaps between no primary and node-a", () => {
    const views = decodeStream(readLitefsFixture("events-replica-primary-lost.ndjson")).map((e) => {
      if (e.type === "tx") throw new Error("no tx expected");
      return viewFromPrimaryStatus(e);
    });
    const expected: LiteFSView[] = [
      { kind: "replica", primary: "node-a" },
      { kind: "no-primary" },
      { kind: "replica", primary: "node-a" },
      { kind: "no-primary" },
      { kind: "replica", primary: "node-a" },
    ];
    expect(views).toEqual(expected);
  });

  it("maps an empty hostname to no primary", () => {
    expect(decodeLiteFSEvent({ type: "primaryChange", data: { isPrimary: false, hostname: "" } })).toEqual({
      type: "primaryChange",
      isPrimary: false,
      hostname: null,
    });
  });

  it("ignores unknown event types", () => {
    expect(decodeLiteFSEvent({ type: "heartbeat", data: {} })).toBeNull();
  });

  it.each([
    [null, /not a JSON object/],
    [[1], /not a JSON object/],
    [{ data: {} }, /no "type"/],
    [{ type: "init", data: {} }, /isPrimary/],
    [{ type: "primaryChange" }, /isPrimary/],
    [{ type: "init", data: { isPrimary: false, hostname: 3 } }, /hostname/],
    [{ type: "tx", data: { txID: "04" } }, /db name/],
    [{ type: "tx", db: "db", data: { txID: "xyz" } }, /txID is not hex/],
    [{ type: "tx", db: "db", data: { txID: "00000000000000001" } }, /txID is not hex/],
    [{ type: "tx", db: "db" }, /data object/],
  ])("rejects a malformed known event %j", (value, message) => {
    expect(() => decodeLiteFSEvent(value)).toThrow(message);
  });
});

describe("JSON object splitter", () => {
  it("splits NDJSON", () => {
    expect(split(['{"a":1}\n{"b":2}\n']).objects).toEqual(['{"a":1}', '{"b":2}']);
  });

  it("tolerates pretty-printed objects and objects without newlines between them", () => {
    const pretty = JSON.stringify({ type: "init", data: { isPrimary: false, hostname: "node-a" } }, null, 2);
    const { objects, junk } = split([`${pretty}\n${pretty}{"x":[1,{"y":2}]}`]);
    expect(junk).toEqual([]);
    expect(objects.map((o) => JSON.parse(o))).toEqual([
      { type: "init", data: { isPrimary: false, hostname: "node-a" } },
      { type: "init", data: { isPrimary: false, hostname: "node-a" } },
      { x: [1, { y: 2 }] },
    ]);
  });

  it("is not fooled by braces and escaped quotes inside strings", () => {
    const text = JSON.stringify({ s: 'a}b{"c\\"}', t: "\\" });
    expect(split([text.slice(0, 7), text.slice(7)]).objects).toEqual([text]);
  });

  it("assembles an object cut across chunks, one character at a time", () => {
    const text = readLitefsFixture("events-primary.ndjson");
    const { objects, partial } = split(Array.from(text));
    expect(objects).toEqual(text.trim().split("\n"));
    expect(partial).toBe(false);
  });

  it("reports junk outside objects once per line and carries on", () => {
    const { objects, junk } = split(['data: {"a":1}\n', "garbage here\n", '{"b":2}\n']);
    expect(junk).toHaveLength(2);
    expect(junk[0]).toMatch(/unexpected text outside a JSON object: "data: /);
    expect(objects).toEqual(['{"b":2}']);
  });

  it("knows when the stream stops inside an object", () => {
    expect(split(['{"a":']).partial).toBe(true);
  });

  it("drops an object larger than the limit and reports it", () => {
    const objects: string[] = [];
    const junk: string[] = [];
    const splitter = createJsonObjectSplitter(
      { object: (t) => objects.push(t), junk: (m) => junk.push(m) },
      { maxObjectChars: 16 },
    );
    splitter.push('{"a":"0123456789abcdef"}\n{"b":1}\n');
    expect(junk).toEqual(["JSON object longer than 16 characters; dropped"]);
    // The rest of the oversized object's line is skipped; the next line parses.
    expect(objects).toEqual(['{"b":1}']);
  });
});

describe("views", () => {
  it("compares views by content", () => {
    expect(sameView({ kind: "replica", primary: "a" }, { kind: "replica", primary: "a" })).toBe(true);
    expect(sameView({ kind: "replica", primary: "a" }, { kind: "replica", primary: "b" })).toBe(false);
    expect(sameView({ kind: "primary" }, { kind: "no-primary" })).toBe(false);
    expect(sameView({ kind: "unknown", detail: "x" }, { kind: "unknown", detail: "x" })).toBe(true);
  });
});

describe("JSON object splitter size limit across chunks", () => {
  it("drops an oversized object that is still arriving", () => {
    const objects: string[] = [];
    const junk: string[] = [];
    const splitter = createJsonObjectSplitter(
      { object: (t) => objects.push(t), junk: (m) => junk.push(m) },
      { maxObjectChars: 16 },
    );
    splitter.push('{"a":"0123456789');
    splitter.push('abcdef"}\n{"b":1}\n');
    expect(junk).toEqual(["JSON object longer than 16 characters; dropped"]);
    expect(objects).toEqual(['{"b":1}']);
  });
});
