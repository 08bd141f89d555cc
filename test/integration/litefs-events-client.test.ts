import { afterEach, describe, expect, it } from "vitest";
import { createServer, type Server } from "node:net";
import { backoffDelayMs } from "../../src/backoff.js";
import { subscribeEvents, type EventsSubscription } from "../../src/litefs/events-client.js";
import type { LiteFSEvent } from "../../src/litefs/events.js";
import { startEventsServer, type EventsServer } from "../support/events-server.js";
import { readLitefsFixture } from "../support/litefs-mount.js";
import { waitFor } from "../support/node-probes.js";

const FAST = { initialMs: 10, maxMs: 40 } as const;

interface Recorder {
  events: LiteFSEvent[];
  errors: Error[];
  connects: number;
  disconnects: (Error | null)[];
}

let server: EventsServer | undefined;
let sub: EventsSubscription | undefined;
afterEach(async () => {
  await sub?.close();
  sub = undefined;
  await server?.close();
  server = undefined;
});

function subscribe(baseUrl: string, extra: Partial<Parameters<typeof subscribeEvents>[0]> = {}): Recorder {
  const rec: Recorder = { events: [], errors: [], connects: 0, disconnects: [] };
  sub = subscribeEvents({
    baseUrl,
    backoff: FAST,
    onEvent: (e) => rec.events.push(e),
    onError: (e) => rec.errors.push(e),
    onConnect: () => rec.connects++,
    onDisconnect: (e) => rec.disconnects.push(e),
    ...extra,
  });
  return rec;
}

describe("events client against recorded streams", () => {
  it.each([
    ["primary", "events-primary.ndjson"],
    ["replica", "events-replica.ndjson"],
    ["replica-primary-lost", "events-replica-primary-lost.ndjson"],
  ] as const)("replays %s", async (fixture, file) => {
    server = await startEventsServer({ fixture });
    const rec = subscribe(server.url);
    const expected = readLitefsFixture(file).trim().split("\n").length;
    await waitFor(() => rec.events.length === expected, `${expected} events`);
    expect(rec.events[0]!.type).toBe("init");
    expect(rec.errors).toEqual([]);
    expect(sub!.connected).toBe(true);
  });

  it("follows the flapping of a replica that lost its primary, pushed live", async () => {
    server = await startEventsServer({
      fixture: "replica",
      stream: '{"type":"init","data":{"isPrimary":false,"hostname":"node-a"}}\n',
    });
    const rec = subscribe(server.url);
    await waitFor(() => rec.events.length === 1, "init");
    const flapping = readLitefsFixture("events-replica-primary-lost.ndjson").split("\n").slice(1).join("\n");
    await server.send(flapping);
    await waitFor(() => rec.events.length === 5, "4 primaryChange events");
    expect(rec.events.slice(1).map((e) => (e.type === "tx" ? "tx" : e.hostname))).toEqual([
      null,
      "node-a",
      null,
      "node-a",
    ]);
  });

  it("decodes pretty-printed objects and objects split across TCP chunks (even inside UTF-8)", async () => {
    const pretty =
      JSON.stringify({ type: "init", data: { isPrimary: false, hostname: "nœud-ä" } }, null, 2) +
      "\n" +
      readLitefsFixture("events-primary.ndjson").split("\n")[1]! +
      "\n";
    server = await startEventsServer({ stream: pretty, chunkBytes: 3, chunkDelayMs: 1 });
    const rec = subscribe(server.url);
    await waitFor(() => rec.events.length === 2, "2 events");
    expect(rec.events[0]).toEqual({ type: "init", isPrimary: false, hostname: "nœud-ä" });
    expect(rec.events[1]).toMatchObject({ type: "tx", txid: 4n });
    expect(rec.errors).toEqual([]);
  });

  it("ignores unknown event types and reports malformed ones without stopping", async () => {
    server = await startEventsServer({
      stream:
        '{"type":"future","data":{}}\nnot json\n{"type":"tx","db":"db","data":{"txID":"zz"}}\n{"type":"init","data":{"isPrimary":true}}\n',
    });
    const rec = subscribe(server.url);
    await waitFor(() => rec.events.length === 1, "init");
    expect(rec.events).toEqual([{ type: "init", isPrimary: true, hostname: null }]);
    expect(rec.errors.map((e) => e.message)).toEqual([
      expect.stringMatching(/unexpected text outside a JSON object/),
      expect.stringMatching(/invalid LiteFS \/events "tx" event: data.txID is not hex/),
    ]);
  });

  it("reconnects after the server drops the connection, and sees the new state", async () => {
    server = await startEventsServer({ fixture: "replica" });
    const rec = subscribe(server.url);
    await waitFor(() => rec.events.length === 2, "replica stream");
    server.useFixture("primary");
    server.dropConnections();
    await waitFor(() => rec.disconnects.length === 1, "disconnect");
    expect(rec.disconnects[0]).toBeInstanceOf(Error);
    await waitFor(() => rec.connects === 2 && rec.events.length === 4, "second connection");
    expect(rec.events[2]).toEqual({ type: "init", isPrimary: true, hostname: null });
    expect(server.eventsRequests).toBe(2);
  });

  it("reconnects after a clean end of stream", async () => {
    server = await startEventsServer({ fixture: "primary", endAfterStream: true });
    const rec = subscribe(server.url);
    await waitFor(() => rec.connects >= 3, "three connections");
    expect(rec.disconnects.slice(0, 2)).toEqual([null, null]);
  });

  it("reopens a stable stream that LiteFS ended at once, with no backoff", async () => {
    // LiteFS ends the stream of a subscriber whose 1024-event buffer filled. A backoff of 5 s
    // would leave the gate on the slow mount files that long; the reconnect must be immediate.
    server = await startEventsServer({ fixture: "primary" });
    const rec = subscribe(server.url, { backoff: { initialMs: 5000, maxMs: 5000 }, stableMs: 50 });
    await waitFor(() => rec.events.length === 2, "first stream");
    await new Promise((r) => setTimeout(r, 80)); // the stream has been healthy for longer than stableMs
    const ended = performance.now();
    server.endStreams();
    await waitFor(() => rec.connects === 2 && rec.events.length === 4, "second connection", 2000);
    expect(performance.now() - ended).toBeLessThan(1000);
    expect(rec.disconnects).toEqual([null]);
  });

  it("backs off after a stream that died young, and after failing connects", async () => {
    // A stream that ends right after its first events is no proof of health: no tight loop.
    server = await startEventsServer({ fixture: "primary", endAfterStream: true });
    const rec = subscribe(server.url, { backoff: { initialMs: 400, maxMs: 400 }, random: () => 1, stableMs: 1000 });
    await waitFor(() => rec.connects === 1, "first connection");
    await new Promise((r) => setTimeout(r, 200));
    expect(server.eventsRequests).toBe(1);
    await waitFor(() => rec.connects === 2, "second connection after the backoff", 2000);
  });

  it("keeps retrying while the server answers errors, then connects", async () => {
    server = await startEventsServer({ fixture: "primary" });
    server.setEventsStatus(503);
    const rec = subscribe(server.url);
    await server.waitForEventsRequests(3);
    expect(rec.connects).toBe(0);
    expect(rec.errors[0]!.message).toMatch(/answered HTTP 503/);
    server.setEventsStatus(200);
    await waitFor(() => rec.connects === 1, "connect");
  });

  it("retries when nothing listens, then connects once the server is up", async () => {
    // Reserve a port, free it, and start the server there later.
    const probe: Server = createServer();
    await new Promise<void>((r) => probe.listen(0, "127.0.0.1", r));
    const port = (probe.address() as { port: number }).port;
    await new Promise<void>((r) => probe.close(() => r()));
    const rec = subscribe(`http://127.0.0.1:${port}`);
    await waitFor(() => rec.errors.length >= 2, "two failed attempts");
    expect(rec.errors[0]!.message).toMatch(/cannot connect to http:\/\/127\.0\.0\.1:\d+\/events/);
    expect(sub!.connected).toBe(false);
  });

  it("times out a connection whose headers never come", async () => {
    server = await startEventsServer({ fixture: "primary" });
    server.setEventsHeaderDelay(2000);
    const rec = subscribe(server.url, { connectTimeoutMs: 50 });
    await waitFor(() => rec.errors.length >= 1, "a timeout");
    expect(rec.errors[0]!.message).toMatch(/cannot connect/);
    expect(rec.connects).toBe(0);
  });

  it("close() stops the stream and retries for good", async () => {
    server = await startEventsServer({ fixture: "primary" });
    const rec = subscribe(server.url);
    await waitFor(() => rec.connects === 1, "connect");
    await sub!.close();
    expect(sub!.connected).toBe(false);
    expect(rec.disconnects).toEqual([null]);
    await waitFor(() => server!.openStreams === 0, "server sees the close");
    const requests = server.eventsRequests;
    await new Promise((r) => setTimeout(r, 100));
    expect(server.eventsRequests).toBe(requests);
    expect(rec.errors).toEqual([]);
  });

  it("an AbortSignal stops it too, also during the backoff sleep", async () => {
    server = await startEventsServer({ fixture: "primary" });
    server.setEventsStatus(500);
    const controller = new AbortController();
    subscribe(server.url, { signal: controller.signal, backoff: { initialMs: 10_000, maxMs: 10_000 } });
    await server.waitForEventsRequests(1);
    const started = Date.now();
    controller.abort();
    await sub!.close();
    expect(Date.now() - started).toBeLessThan(1000);
    expect(server.eventsRequests).toBe(1);
  });

  it("a throwing onEvent callback is reported, not thrown into the event loop", async () => {
    server = await startEventsServer({ fixture: "primary" });
    const errors: Error[] = [];
    let seen = 0;
    sub = subscribeEvents({
      baseUrl: server.url,
      onEvent: () => {
        seen++;
        throw new Error("boom in handler");
      },
      onError: (e) => {
        errors.push(e);
        throw new Error("and the error handler throws too");
      },
    });
    await waitFor(() => seen === 2, "both events delivered");
    expect(errors.map((e) => e.message)).toEqual(["boom in handler", "boom in handler"]);
  });
});

describe("backoff", () => {
  it("grows exponentially, is capped, and jitters within [ceiling/2, ceiling]", () => {
    const opts = { initialMs: 100, maxMs: 1000 };
    expect([1, 2, 3, 4, 5, 10].map((n) => backoffDelayMs(n, opts, () => 0.999999))).toEqual(
      [100, 200, 400, 800, 1000, 1000].map((c) => expect.closeTo(c, 0)),
    );
    expect(backoffDelayMs(3, opts, () => 0)).toBe(200);
    expect(backoffDelayMs(30, opts, () => 0)).toBe(500);
  });
});
