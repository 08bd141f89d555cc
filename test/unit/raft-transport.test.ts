import { connect, createServer, type Server, type Socket } from "node:net";
import { connect as tlsConnect, type TLSSocket } from "node:tls";
import { afterEach, describe, expect, it } from "vitest";
import { encodeMessage } from "../../src/raft/codec.js";
import { pskChannel, pskClientOptions } from "../../src/raft/tls-psk.js";
import {
  dataFrame,
  decodeAnswer,
  encodeHello,
  frame,
  FrameDecoder,
  PROTOCOL_VERSION,
} from "../../src/raft/transport-frame.js";
import { startTcpTransport, type TcpTransport, type TcpTransportOptions } from "../../src/raft/transport-tcp.js";
import type { TransportEvent } from "../../src/raft/transport.js";
import type { Message } from "../../src/raft/types.js";
import { ConfigError } from "../../src/errors.js";
import { raftMessage } from "../support/raft/message.js";

const SECRET = "test-secret-0123456789abcdef";
const started: TcpTransport[] = [];
const sockets: Socket[] = [];
const servers: Server[] = [];

afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  for (const s of servers.splice(0)) s.close();
  await Promise.all(started.splice(0).map((t) => t.close()));
});

function msg(from: string, to: string, term: number, extra: Partial<Message> = {}): Message {
  return raftMessage({ type: "app", from, to, term, ...extra });
}

async function start(
  id: string,
  peers: Record<string, string>,
  over: Partial<TcpTransportOptions> = {},
): Promise<TcpTransport> {
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

/** A TLS-PSK client holding the real key, speaking the frame protocol by hand as node "a" towards "b". */
async function rawClient(
  port: number,
  hello: Partial<Parameters<typeof encodeHello>[0]> = {},
): Promise<{ socket: TLSSocket; answer: Promise<ReturnType<typeof decodeAnswer>>; closed: Promise<void> }> {
  const socket = tlsConnect({ host: "127.0.0.1", port, ...pskClientOptions(pskChannel(SECRET, "c1", "raft")) });
  sockets.push(socket);
  socket.on("error", () => {});
  const closed = new Promise<void>((r) => socket.on("close", () => r()));
  await new Promise<void>((r) => socket.on("secureConnect", () => r()));
  socket.write(
    frame(
      encodeHello({ version: PROTOCOL_VERSION, clusterId: "c1", from: "a", to: "b", incarnation: "inc-a", ...hello }),
    ),
  );
  const dec = new FrameDecoder(1024);
  const answer = new Promise<ReturnType<typeof decodeAnswer>>((resolve) => {
    socket.on("data", (c: Buffer) => {
      const f = dec.push(c);
      if (f[0]) resolve(decodeAnswer(f[0]));
    });
  });
  return { socket, answer, closed };
}

/** A TCP relay that records what each side sent (to look at the bytes on the wire). */
async function recordingRelay(targetPort: number): Promise<{ port: number; toServer: Buffer[]; toClient: Buffer[] }> {
  const toServer: Buffer[] = [];
  const toClient: Buffer[] = [];
  const server = createServer((c) => {
    const up = connect({ host: "127.0.0.1", port: targetPort });
    sockets.push(c, up);
    c.on("data", (d: Buffer) => (toServer.push(d), up.write(d)));
    up.on("data", (d: Buffer) => (toClient.push(d), c.write(d)));
    const end = () => (c.destroy(), up.destroy());
    c.on("close", end).on("error", end);
    up.on("close", end).on("error", end);
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  return { port: (server.address() as { port: number }).port, toServer, toClient };
}

/** TLS record content types in a byte stream (20 ccs, 21 alert, 22 handshake, 23 application data). */
function recordTypes(bytes: Buffer): number[] {
  const types: number[] = [];
  for (let off = 0; off + 5 <= bytes.length; off += 5 + bytes.readUInt16BE(off + 3)) types.push(bytes[off]!);
  return types;
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
    a.send([
      m,
      msg("a", "b", 8, {
        type: "snap",
        snapshot: { meta: { index: 10, term: 8, voters: ["a", "b"] }, data: new Uint8Array(5000).fill(7) },
      }),
    ]);
    await until(() => got.length === 2, "two messages");
    expect(got[0]).toEqual({ ...m, entries: [{ ...m.entries[0], data: new Uint8Array([1, 2, 3]) }] });
    expect(got[1]!.snapshot!.data.length).toBe(5000);
  });

  it("refuses a peer with the wrong secret and delivers nothing; the dialer says why", async () => {
    const { a, b, aEvents, bEvents } = await pair({ a: { secret: "another-secret-0123456789" } });
    const got = collect(b);
    a.send([msg("a", "b", 1)]);
    await until(
      () => aEvents.some((e) => e.type === "disconnected" && /the peer holds another raft\.secret/.test(e.reason)),
      "TLS failure on the dialer",
    );
    await until(
      () => bEvents.some((e) => e.type === "rejected" && /another raft\.secret/.test(e.reason)),
      "TLS failure on the listener",
    );
    expect(got).toEqual([]);
  });

  it("answers a stranger with a TLS alert only: nothing derived from the secret leaves the listener", async () => {
    const { b } = await pair();
    collect(b);
    const relay = await recordingRelay(b.address.port);
    const stranger = tlsConnect({
      host: "127.0.0.1",
      port: relay.port,
      ...pskClientOptions(pskChannel("a-guess-at-the-secret-000", "c1", "raft")),
    });
    sockets.push(stranger);
    await new Promise<void>((r) => (stranger.on("error", () => r()), stranger.on("close", () => r())));
    await until(() => relay.toClient.length > 0, "the listener's answer");
    const answer = Buffer.concat(relay.toClient);
    // A ServerHello (handshake record, type 22) would follow a verified binder only; an alert (21) is all.
    expect(recordTypes(answer)).toEqual([21]);
    expect(answer.length).toBeLessThan(16);
  });

  it("encrypts the traffic: a message's bytes never appear on the wire", async () => {
    const b = await start("b", { a: "127.0.0.1:1" });
    const got = collect(b);
    const relay = await recordingRelay(b.address.port);
    const a = await start("a", { b: `127.0.0.1:${relay.port}` });
    const marker = Buffer.from("a-very-recognizable-context-marker");
    a.send([msg("a", "b", 3, { context: new Uint8Array(marker) })]);
    await until(() => got.length === 1, "delivery through the relay");
    const wire = Buffer.concat(relay.toServer);
    expect(wire.includes(marker)).toBe(false);
    expect(wire.includes(Buffer.from("c1"))).toBe(true); // the PSK identity names the cluster, in the clear by design
    expect(recordTypes(wire).filter((t) => t === 23).length).toBeGreaterThan(0);
  });

  it("refuses a peer of another cluster (PSK identity) or an unknown sender", async () => {
    const { a, b, bEvents } = await pair({ a: { clusterId: "other" } });
    collect(b);
    a.send([msg("a", "b", 1, { clusterId: "other" })]);
    await until(
      () =>
        bEvents.some(
          (e) =>
            e.type === "rejected" &&
            /identity "litefs-node\/raft\/other" is not this cluster's.*cluster id mismatch/.test(e.reason),
        ),
      "cluster rejection",
    );
    const cEvents: TransportEvent[] = [];
    const c = await start("c", { b: `127.0.0.1:${b.address.port}` }, { onEvent: (e) => cEvents.push(e) });
    c.send([msg("c", "b", 1)]);
    await until(
      () => cEvents.some((e) => e.type === "refused" && /"c" is not a member of this cluster/.test(e.reason)),
      "unknown peer refusal, told to the dialer",
    );
  });

  it("refuses another protocol version with a clear reason on both sides", async () => {
    const { b, bEvents } = await pair();
    collect(b);
    const conn = await rawClient(b.address.port, { version: PROTOCOL_VERSION + 1 });
    const answer = await conn.answer;
    expect(answer).toMatchObject({ kind: "refuse", version: PROTOCOL_VERSION });
    expect(answer.kind === "refuse" && answer.reason).toMatch(
      new RegExp(
        `the peer speaks Raft transport protocol ${PROTOCOL_VERSION + 1}, this member speaks ${PROTOCOL_VERSION}`,
      ),
    );
    await conn.closed;
    expect(bEvents.some((e) => e.type === "rejected" && /protocol version mismatch/.test(e.reason))).toBe(true);
  });

  it("refuses a member whose storage incarnation it does not accept; the dialer stops for good", async () => {
    const { a, b, aEvents } = await pair({
      a: { incarnation: "new-storage" },
      b: { admitPeer: (peer, inc) => (inc === "old-storage" ? null : `${peer} comes back with re-created storage`) },
    });
    const got = collect(b);
    a.send([msg("a", "b", 1)]);
    await until(
      () => aEvents.some((e) => e.type === "refused" && e.fatal && /re-created storage/.test(e.reason)),
      "fatal refusal",
    );
    const dials = aEvents.filter((e) => e.type === "disconnected").length;
    a.send([msg("a", "b", 2)]);
    await new Promise((r) => setTimeout(r, 200));
    expect(aEvents.filter((e) => e.type === "disconnected").length).toBe(dials);
    expect(got).toEqual([]);
  });

  it("rejects a secret shorter than 16 characters with a ConfigError naming LITEFS_RAFT_SECRET", async () => {
    await expect(start("a", {}, { secret: "short" })).rejects.toThrow(ConfigError);
    await expect(start("a", {}, { secret: "short" })).rejects.toThrow(/LITEFS_RAFT_SECRET/);
  });

  it("drops a connection that announces a frame larger than a handshake before its HELLO", async () => {
    const { b, bEvents } = await pair();
    const conn = await rawClient(b.address.port, {});
    await conn.answer;
    const c2 = tlsConnect({
      host: "127.0.0.1",
      port: b.address.port,
      ...pskClientOptions(pskChannel(SECRET, "c1", "raft")),
    });
    sockets.push(c2);
    c2.on("error", () => {});
    await new Promise<void>((r) => c2.on("secureConnect", () => r()));
    const closed = new Promise<void>((r) => c2.on("close", () => r()));
    const head = Buffer.alloc(4);
    head.writeUInt32BE(1 << 30);
    c2.write(head);
    await closed;
    expect(bEvents.some((e) => e.type === "rejected" && /exceeds the limit of 1024/.test(e.reason))).toBe(true);
  });

  it("drops an authenticated connection whose frame exceeds maxFrameBytes", async () => {
    const { b, bEvents } = await pair({ b: { maxFrameBytes: 4096 } });
    const got = collect(b);
    const conn = await rawClient(b.address.port);
    expect(await conn.answer).toMatchObject({ kind: "welcome" });
    conn.socket.write(dataFrame(encodeMessage(msg("a", "b", 5, { context: new Uint8Array(1000) }))));
    await until(() => got.length === 1, "a normal frame");
    const head = Buffer.alloc(4);
    head.writeUInt32BE(5000);
    conn.socket.write(head);
    await conn.closed;
    expect(
      bEvents.some((e) => e.type === "disconnected" && /5000 bytes exceeds the limit of 4096/.test(e.reason)),
    ).toBe(true);
  });

  it("drops a connection sending plaintext instead of a TLS handshake", async () => {
    const { b, bEvents } = await pair();
    const s = connect({ host: "127.0.0.1", port: b.address.port });
    sockets.push(s);
    s.on("error", () => {});
    const closed = new Promise<void>((r) => s.on("close", () => r()));
    s.write(frame(Buffer.from("GET / HTTP/1.1\r\n\r\n")));
    await closed;
    await until(() => bEvents.some((e) => e.type === "rejected"), "a rejection");
  });

  it("drops a TCP connection that does not start TLS within the handshake timeout", async () => {
    const { b, bEvents } = await pair({ b: { handshakeTimeoutMs: 150 } });
    const s = connect({ host: "127.0.0.1", port: b.address.port });
    sockets.push(s);
    s.on("error", () => {});
    const t0 = Date.now();
    await new Promise<void>((r) => s.on("close", () => r()));
    expect(Date.now() - t0).toBeLessThan(2000);
    await until(() => bEvents.some((e) => e.type === "rejected"), "a rejection");
  });

  it("drops a connection whose frame claims another sender", async () => {
    const { b, bEvents } = await pair();
    const got = collect(b);
    const conn = await rawClient(b.address.port);
    await conn.answer;
    conn.socket.write(dataFrame(encodeMessage(msg("x", "b", 5))));
    await conn.closed;
    expect(got).toEqual([]);
    expect(bEvents.some((e) => e.type === "disconnected" && /on the connection of "a"/.test(e.reason))).toBe(true);
  });

  it("keeps an idle member connection open with PINGs, and closes a silent one", async () => {
    const { a, b, bEvents } = await pair({ a: { idleTimeoutMs: 300 }, b: { idleTimeoutMs: 300 } });
    const got = collect(b);
    a.send([msg("a", "b", 1)]);
    await until(() => got.length === 1, "first message");
    await new Promise((r) => setTimeout(r, 1000));
    expect(bEvents.filter((e) => e.type === "disconnected")).toEqual([]);
    // A member connection that says nothing at all (no PINGs) is closed.
    const quietEvents: TransportEvent[] = [];
    const quiet = await start("b", { a: "127.0.0.1:1" }, { idleTimeoutMs: 300, onEvent: (e) => quietEvents.push(e) });
    const conn = await rawClient(quiet.address.port);
    expect(await conn.answer).toMatchObject({ kind: "welcome" });
    await conn.closed;
    expect(quietEvents.some((e) => e.type === "disconnected" && /idle for 300 ms/.test(e.reason))).toBe(true);
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
