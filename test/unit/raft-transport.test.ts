import { connect, type Socket } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { encodeMessage } from "../../src/election/raft/codec.js";
import {
  decodeChallenge,
  encodeAuth,
  encodeHello,
  frame,
  FrameDecoder,
  handshakeKeys,
  newNonce,
  sealData,
} from "../../src/election/raft/transport-frame.js";
import { startTcpTransport, type TcpTransport, type TcpTransportOptions } from "../../src/election/raft/transport-tcp.js";
import type { TransportEvent } from "../../src/election/raft/transport.js";
import type { Message } from "../../src/election/raft/types.js";
import { ConfigError } from "../../src/errors.js";

const SECRET = "test-secret-0123456789abcdef";
const started: TcpTransport[] = [];
const sockets: Socket[] = [];

afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  await Promise.all(started.splice(0).map((t) => t.close()));
});

function msg(from: string, to: string, term: number, extra: Partial<Message> = {}): Message {
  return {
    type: "app",
    clusterId: "c1",
    from,
    to,
    term,
    index: 0,
    logTerm: 0,
    entries: [],
    commit: 0,
    reject: false,
    rejectHint: 0,
    snapshot: null,
    context: null,
    ...extra,
  };
}

async function start(id: string, peers: Record<string, string>, over: Partial<TcpTransportOptions> = {}): Promise<TcpTransport> {
  const t = await startTcpTransport({
    id,
    clusterId: "c1",
    secret: SECRET,
    listen: { host: "127.0.0.1", port: 0 },
    peers,
    reconnectMinMs: 10,
    reconnectMaxMs: 50,
    handshakeTimeoutMs: 1000,
    ...over,
  });
  started.push(t);
  return t;
}

function collect(t: TcpTransport): Message[] {
  const got: Message[] = [];
  t.setHandler((m) => got.push(m));
  return got;
}

async function until(cond: () => boolean, what: string, ms = 3000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** A pair where b listens first and a knows b's port (a's own port is irrelevant to b's sending). */
async function pair(over: { a?: Partial<TcpTransportOptions>; b?: Partial<TcpTransportOptions> } = {}) {
  const bEvents: TransportEvent[] = [];
  const b = await start("b", { a: "127.0.0.1:1" }, { onEvent: (e) => bEvents.push(e), ...over.b });
  const aEvents: TransportEvent[] = [];
  const a = await start("a", { b: `127.0.0.1:${b.address.port}` }, { onEvent: (e) => aEvents.push(e), ...over.a });
  return { a, b, aEvents, bEvents };
}

/** Connects a raw socket and completes a legitimate handshake as node "a" towards "b". */
async function rawHandshake(port: number, secret = SECRET): Promise<{ socket: Socket; sessionKey: Buffer; closed: Promise<void> }> {
  const socket = connect({ host: "127.0.0.1", port });
  sockets.push(socket);
  const closed = new Promise<void>((r) => socket.on("close", () => r()));
  socket.on("error", () => {});
  await new Promise<void>((r) => socket.on("connect", () => r()));
  const hello = { version: 1, clusterId: "c1", from: "a", to: "b", clientNonce: newNonce() };
  socket.write(frame(encodeHello(hello)));
  const dec = new FrameDecoder(1024);
  const body = await new Promise<Buffer>((resolve) => {
    socket.on("data", (c: Buffer) => {
      const f = dec.push(c);
      if (f[0]) resolve(f[0]);
    });
  });
  const ch = decodeChallenge(body);
  const keys = handshakeKeys(secret, hello, ch.serverNonce);
  socket.write(frame(encodeAuth(keys.clientProof)));
  return { socket, sessionKey: keys.sessionKey, closed };
}

describe("frame decoder", () => {
  it("reassembles frames split at every byte and splits frames sharing a chunk", () => {
    const bodies = [Buffer.from("a"), Buffer.alloc(0), Buffer.from("hello world"), Buffer.alloc(300, 7)];
    const wire = Buffer.concat(bodies.map((b) => frame(b)));
    const dec = new FrameDecoder(1000);
    const got: Buffer[] = [];
    for (let i = 0; i < wire.length; i++) got.push(...dec.push(wire.subarray(i, i + 1)));
    expect(got).toEqual(bodies);
    expect(new FrameDecoder(1000).push(wire)).toEqual(bodies);
  });

  it("fails on an oversized length before the body arrives", () => {
    const head = Buffer.alloc(4);
    head.writeUInt32BE(1001);
    expect(() => new FrameDecoder(1000).push(head)).toThrow(/1001 bytes exceeds the limit of 1000/);
  });
});

describe("tcp transport", () => {
  it("delivers messages with entries, snapshot and context intact", async () => {
    const { a, b } = await pair();
    const got = collect(b);
    const m = msg("a", "b", 7, {
      index: 3,
      logTerm: 6,
      commit: 2,
      entries: [{ term: 7, index: 4, type: "normal", data: new Uint8Array([1, 2, 3]) }],
      context: new Uint8Array([9]),
    });
    a.send([m, msg("a", "b", 8, { type: "snap", snapshot: { meta: { index: 10, term: 8, voters: ["a", "b"] }, data: new Uint8Array(5000).fill(7) } })]);
    await until(() => got.length === 2, "two messages");
    expect(got[0]).toEqual({ ...m, entries: [{ ...m.entries[0], data: new Uint8Array([1, 2, 3]) }] });
    expect(got[1]!.snapshot!.data.length).toBe(5000);
  });

  it("refuses a peer with the wrong secret and delivers nothing", async () => {
    const { a, b, aEvents } = await pair({ a: { secret: "another-secret-0123456789" } });
    const got = collect(b);
    a.send([msg("a", "b", 1)]);
    await until(() => aEvents.some((e) => e.type === "disconnected" && /failed authentication/.test(e.reason)), "auth failure");
    expect(got).toEqual([]);
  });

  it("refuses a peer of another cluster or an unknown sender", async () => {
    const { a, b, bEvents } = await pair({ a: { clusterId: "other" } });
    collect(b);
    a.send([msg("a", "b", 1, { clusterId: "other" })]);
    await until(() => bEvents.some((e) => e.type === "rejected" && /cluster id "other" is not ours/.test(e.reason)), "cluster rejection");
    const c = await start("c", { b: `127.0.0.1:${b.address.port}` });
    c.send([msg("c", "b", 1)]);
    await until(() => bEvents.some((e) => e.type === "rejected" && /"c" is not a configured peer/.test(e.reason)), "unknown peer rejection");
  });

  it("rejects a secret shorter than 16 characters with a ConfigError naming LITEFS_RAFT_SECRET", async () => {
    await expect(start("a", {}, { secret: "short" })).rejects.toThrow(ConfigError);
    await expect(start("a", {}, { secret: "short" })).rejects.toThrow(/LITEFS_RAFT_SECRET/);
  });

  it("drops an unauthenticated connection that announces a frame larger than a handshake", async () => {
    const { b, bEvents } = await pair();
    const s = connect({ host: "127.0.0.1", port: b.address.port });
    sockets.push(s);
    s.on("error", () => {});
    const closed = new Promise<void>((r) => s.on("close", () => r()));
    const head = Buffer.alloc(4);
    head.writeUInt32BE(1 << 30);
    s.write(head);
    await closed;
    expect(bEvents.some((e) => e.type === "rejected" && /exceeds the limit of 1024/.test(e.reason))).toBe(true);
  });

  it("drops an authenticated connection whose frame exceeds maxFrameBytes", async () => {
    const { b, bEvents } = await pair({ b: { maxFrameBytes: 4096 } });
    const got = collect(b);
    const conn = await rawHandshake(b.address.port);
    conn.socket.write(frame(sealData(conn.sessionKey, 1, encodeMessage(msg("a", "b", 5, { context: new Uint8Array(1000) })))));
    await until(() => got.length === 1, "a normal frame");
    const head = Buffer.alloc(4);
    head.writeUInt32BE(5000);
    conn.socket.write(head);
    await conn.closed;
    expect(bEvents.some((e) => e.type === "disconnected" && /5000 bytes exceeds the limit of 4096/.test(e.reason))).toBe(true);
  });

  it("drops a connection sending garbage instead of a handshake", async () => {
    const { b, bEvents } = await pair();
    const s = connect({ host: "127.0.0.1", port: b.address.port });
    sockets.push(s);
    s.on("error", () => {});
    const closed = new Promise<void>((r) => s.on("close", () => r()));
    s.write(frame(Buffer.from("GET / HTTP/1.1\r\n\r\n")));
    await closed;
    expect(bEvents.some((e) => e.type === "rejected")).toBe(true);
  });

  it("drops a connection that does not finish the handshake in time", async () => {
    const { b, bEvents } = await pair({ b: { handshakeTimeoutMs: 100 } });
    const s = connect({ host: "127.0.0.1", port: b.address.port });
    sockets.push(s);
    s.on("error", () => {});
    await new Promise<void>((r) => s.on("close", () => r()));
    expect(bEvents.some((e) => e.type === "rejected" && /timed out/.test(e.reason))).toBe(true);
  });

  it("accepts authenticated frames and drops the connection on a tampered, replayed or cross-connection frame", async () => {
    const { b } = await pair();
    const got = collect(b);
    const payload = encodeMessage(msg("a", "b", 5));

    // Legit frame, then the same frame again (replay inside the connection).
    const one = await rawHandshake(b.address.port);
    const f1 = frame(sealData(one.sessionKey, 1, payload));
    one.socket.write(f1);
    await until(() => got.length === 1, "first delivery");
    one.socket.write(f1);
    await one.closed;
    expect(got).toHaveLength(1);

    // The recorded frame on a fresh connection: its MAC is bound to the old session key.
    const two = await rawHandshake(b.address.port);
    two.socket.write(f1);
    await two.closed;
    expect(got).toHaveLength(1);

    // A flipped bit in an otherwise fresh frame.
    const three = await rawHandshake(b.address.port);
    const f3 = frame(sealData(three.sessionKey, 1, payload));
    f3[f3.length - 40]! ^= 1;
    three.socket.write(f3);
    await three.closed;
    expect(got).toHaveLength(1);
  });

  it("drops a connection whose authenticated frame claims another sender", async () => {
    const { b, bEvents } = await pair();
    const got = collect(b);
    const conn = await rawHandshake(b.address.port);
    conn.socket.write(frame(sealData(conn.sessionKey, 1, encodeMessage(msg("x", "b", 5)))));
    await conn.closed;
    expect(got).toEqual([]);
    expect(bEvents.some((e) => e.type === "disconnected" && /on the connection of "a"/.test(e.reason))).toBe(true);
  });

  it("queues while the peer is down, drops the oldest beyond the bound, and reconnects", async () => {
    // Reserve a port for b, then close b so a's first dials fail.
    const probe = await start("b", { a: "127.0.0.1:1" });
    const port = probe.address.port;
    await probe.close();
    started.splice(started.indexOf(probe), 1);
    const aEvents: TransportEvent[] = [];
    const a = await start("a", { b: `127.0.0.1:${port}` }, { maxQueuedMessages: 10, onEvent: (e) => aEvents.push(e) });
    a.send(Array.from({ length: 25 }, (_, i) => msg("a", "b", i + 1)));
    await new Promise((r) => setTimeout(r, 50));
    expect(aEvents.some((e) => e.type === "dropped" && e.reason === "send queue full")).toBe(true);
    const b = await start("b", { a: "127.0.0.1:1" }, { listen: { host: "127.0.0.1", port } });
    const got = collect(b);
    await until(() => got.length === 10, "the 10 newest messages");
    expect(got.map((m) => m.term)).toEqual([16, 17, 18, 19, 20, 21, 22, 23, 24, 25]);
    a.send([msg("a", "b", 99)]);
    await until(() => got.length === 11, "a message after reconnect");
  });
});
