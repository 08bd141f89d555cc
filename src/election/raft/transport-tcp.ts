// Raft over TCP with HMAC-SHA256 authentication (protocol: transport-frame.ts).
//
// Each node dials every peer once and uses that connection only to SEND; it RECEIVES on the
// connections its peers dial in. One direction per connection keeps the state simple and lets a
// fault-injecting proxy cut A->B without touching B->A.
//
// Sending never blocks: messages go to a bounded per-peer queue while the peer is unreachable or
// the socket is congested (a SIGSTOPped peer stops reading); when full, the oldest are dropped,
// which Raft tolerates (it retries with fresh heartbeats and appends). Reconnects back off
// exponentially with jitter. Anything unauthenticated, oversized or malformed drops the connection.

import { createServer, connect, type Server, type Socket } from "node:net";
import { ConfigError } from "../../errors.js";
import { decodeMessage, encodeMessage, DEFAULT_CODEC_LIMITS } from "./codec.js";
import {
  decodeAuth,
  decodeChallenge,
  decodeHello,
  encodeAuth,
  encodeChallenge,
  encodeHello,
  frame,
  FrameDecoder,
  FrameTooLargeError,
  handshakeKeys,
  macEqual,
  MAX_HANDSHAKE_FRAME_BYTES,
  newNonce,
  openData,
  PROTOCOL_VERSION,
  sealData,
} from "./transport-frame.js";
import type { RaftTransport, TransportEvent } from "./transport.js";
import type { Message, NodeId } from "./types.js";

export interface TcpTransportOptions {
  readonly id: NodeId;
  readonly clusterId: string;
  /** Shared secret (LITEFS_RAFT_SECRET); at least 16 characters. */
  readonly secret: string;
  /** Where to listen; port 0 picks a free port (see `address`). */
  readonly listen: { readonly host: string; readonly port: number };
  /** Peer id -> "host:port" (self excluded). */
  readonly peers: Readonly<Record<NodeId, string>>;
  /** Largest frame accepted or sent; default: the codec's snapshot limit plus headroom. */
  readonly maxFrameBytes?: number;
  /** Messages queued per peer while it is unreachable or slow; default 1024. */
  readonly maxQueuedMessages?: number;
  /** Bytes allowed in a socket's write buffer before queuing instead; default 1 MiB. */
  readonly socketHighWaterBytes?: number;
  readonly handshakeTimeoutMs?: number;
  readonly reconnectMinMs?: number;
  readonly reconnectMaxMs?: number;
  /** Unauthenticated inbound connections allowed at once (flood guard); default 64. */
  readonly maxPendingHandshakes?: number;
  readonly onEvent?: (event: TransportEvent) => void;
}

export const MIN_SECRET_LENGTH = 16;

export interface TcpTransport extends RaftTransport {
  /** The bound listen address (the real port when 0 was asked). */
  readonly address: { readonly host: string; readonly port: number };
}

export function parseHostPort(addr: string, setting: string): { host: string; port: number } {
  const m = /^(\[[^\]]+\]|[^:]+):(\d{1,5})$/.exec(addr);
  const port = m ? Number(m[2]) : NaN;
  if (!m || port < 1 || port > 65535) {
    throw new ConfigError([{ setting, env: null, message: `"${addr}" is not a "host:port" address` }]);
  }
  return { host: m[1]!.replace(/^\[|\]$/g, ""), port };
}

/** Starts listening and returns once the server is bound. */
export async function startTcpTransport(options: TcpTransportOptions): Promise<TcpTransport> {
  if (options.secret.length < MIN_SECRET_LENGTH) {
    throw new ConfigError([
      {
        setting: "raft.secret",
        env: "LITEFS_RAFT_SECRET",
        message: `the Raft peer secret must be at least ${MIN_SECRET_LENGTH} characters (got ${options.secret.length}); use the same random value on every node`,
      },
    ]);
  }
  for (const [id, addr] of Object.entries(options.peers)) {
    if (id === options.id) throw new ConfigError([{ setting: "raft.peers", env: null, message: `peer list contains this node's own id "${id}"` }]);
    parseHostPort(addr, `raft.peers.${id}`);
  }
  const t = new Transport(options);
  await t.listen();
  return t;
}

interface Resolved {
  readonly id: NodeId;
  readonly clusterId: string;
  readonly secret: string;
  readonly maxFrameBytes: number;
  readonly maxQueued: number;
  readonly highWater: number;
  readonly handshakeTimeoutMs: number;
  readonly reconnectMinMs: number;
  readonly reconnectMaxMs: number;
  readonly maxPending: number;
  readonly emit: (e: TransportEvent) => void;
}

class Transport implements TcpTransport {
  private readonly cfg: Resolved;
  private readonly server: Server;
  private readonly senders = new Map<NodeId, PeerSender>();
  private readonly inbound = new Map<NodeId, Socket>();
  private readonly sockets = new Set<Socket>();
  private pendingHandshakes = 0;
  private handler: (m: Message) => void = () => {};
  private closed = false;
  private bound: { host: string; port: number } | null = null;

  constructor(private readonly options: TcpTransportOptions) {
    this.cfg = {
      id: options.id,
      clusterId: options.clusterId,
      secret: options.secret,
      maxFrameBytes: options.maxFrameBytes ?? DEFAULT_CODEC_LIMITS.maxSnapshotBytes + (1 << 20),
      maxQueued: options.maxQueuedMessages ?? 1024,
      highWater: options.socketHighWaterBytes ?? 1 << 20,
      handshakeTimeoutMs: options.handshakeTimeoutMs ?? 5000,
      reconnectMinMs: options.reconnectMinMs ?? 50,
      reconnectMaxMs: options.reconnectMaxMs ?? 2000,
      maxPending: options.maxPendingHandshakes ?? 64,
      emit: options.onEvent ?? (() => {}),
    };
    for (const [id, addr] of Object.entries(options.peers)) {
      this.senders.set(id, new PeerSender(this.cfg, id, parseHostPort(addr, `raft.peers.${id}`)));
    }
    this.server = createServer((s) => this.accept(s));
  }

  get address(): { host: string; port: number } {
    if (!this.bound) throw new Error("transport is not listening");
    return this.bound;
  }

  listen(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.server.once("error", reject);
      this.server.listen(this.options.listen.port, this.options.listen.host, () => {
        this.server.off("error", reject);
        const a = this.server.address();
        if (a && typeof a === "object") this.bound = { host: a.address, port: a.port };
        resolve();
      });
    });
  }

  setHandler(handler: (m: Message) => void): void {
    this.handler = handler;
  }

  send(messages: readonly Message[]): void {
    if (this.closed) return;
    for (const m of messages) {
      const sender = this.senders.get(m.to);
      if (!sender) {
        this.cfg.emit({ type: "dropped", peer: m.to, count: 1, reason: "unknown peer" });
        continue;
      }
      let bytes: Buffer;
      try {
        bytes = encodeMessage(m);
      } catch (e) {
        this.cfg.emit({ type: "dropped", peer: m.to, count: 1, reason: `cannot encode: ${(e as Error).message}` });
        continue;
      }
      sender.enqueue(bytes);
    }
  }

  private accept(socket: Socket): void {
    const remote = `${socket.remoteAddress}:${socket.remotePort}`;
    if (this.closed) {
      socket.destroy();
      return;
    }
    if (this.pendingHandshakes >= this.cfg.maxPending) {
      this.cfg.emit({ type: "rejected", remote, reason: "too many pending handshakes" });
      socket.destroy();
      return;
    }
    this.pendingHandshakes++;
    this.sockets.add(socket);
    socket.setNoDelay(true);
    // Strangers may not make us buffer a snapshot-sized frame: small limit until authenticated.
    const decoder = new FrameDecoder(MAX_HANDSHAKE_FRAME_BYTES);
    let stage: "hello" | "auth" | "open" = "hello";
    let peer: NodeId | null = null;
    let keys: ReturnType<typeof handshakeKeys> | null = null;
    let lastSeq = -1;
    let pending = true;
    const endPending = (): void => {
      if (pending) {
        pending = false;
        this.pendingHandshakes--;
      }
    };
    const timer = setTimeout(() => reject("handshake timed out"), this.cfg.handshakeTimeoutMs);
    const reject = (reason: string): void => {
      if (socket.destroyed) return;
      if (stage === "open") this.cfg.emit({ type: "disconnected", peer, direction: "in", reason });
      else this.cfg.emit({ type: "rejected", remote, reason });
      socket.destroy();
    };
    socket.on("close", () => {
      clearTimeout(timer);
      endPending();
      this.sockets.delete(socket);
      if (peer !== null && this.inbound.get(peer) === socket) this.inbound.delete(peer);
    });
    socket.on("error", () => {});
    socket.on("data", (chunk: Buffer) => {
      decoder.append(chunk);
      for (;;) {
        if (socket.destroyed) return;
        let body: Buffer | null;
        try {
          body = decoder.next();
        } catch (e) {
          return reject(e instanceof FrameTooLargeError ? e.message : String(e));
        }
        if (body === null) return;
        try {
          if (stage === "hello") {
            const hello = decodeHello(body);
            if (hello.version !== PROTOCOL_VERSION) return reject(`protocol version ${hello.version} unsupported`);
            if (hello.clusterId !== this.cfg.clusterId) return reject(`cluster id "${hello.clusterId}" is not ours ("${this.cfg.clusterId}")`);
            if (hello.to !== this.cfg.id) return reject(`hello addressed to "${hello.to}", this node is "${this.cfg.id}"`);
            if (!this.senders.has(hello.from)) return reject(`"${hello.from}" is not a configured peer`);
            const serverNonce = newNonce();
            keys = handshakeKeys(this.cfg.secret, hello, serverNonce);
            peer = hello.from;
            socket.write(frame(encodeChallenge(serverNonce, keys.serverProof)));
            stage = "auth";
          } else if (stage === "auth") {
            const proof = decodeAuth(body);
            if (!macEqual(proof, keys!.clientProof)) return reject(`peer "${peer}" failed authentication (wrong LITEFS_RAFT_SECRET?)`);
            stage = "open";
            decoder.setLimit(this.cfg.maxFrameBytes);
            clearTimeout(timer);
            endPending();
            // A peer has one sending connection: a new one means the old is dead or half-open.
            this.inbound.get(peer!)?.destroy();
            this.inbound.set(peer!, socket);
            this.cfg.emit({ type: "connected", peer: peer!, direction: "in" });
          } else {
            const opened = openData(keys!.sessionKey, body);
            if (!opened) return reject("data frame failed authentication");
            if (opened.seq <= lastSeq) return reject(`replayed or reordered frame (seq ${opened.seq} after ${lastSeq})`);
            lastSeq = opened.seq;
            const m = decodeMessage(opened.payload);
            // The handshake bound this connection to one sender in one cluster.
            if (m.from !== peer || m.to !== this.cfg.id || m.clusterId !== this.cfg.clusterId) {
              return reject(`message ${m.from}->${m.to} in cluster "${m.clusterId}" on the connection of "${peer}"`);
            }
            this.handler(m);
          }
        } catch (e) {
          return reject((e as Error).message);
        }
      }
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const s of this.senders.values()) s.close();
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

/** The outbound side towards one peer: connection, handshake, queue, reconnect. */
class PeerSender {
  private socket: Socket | null = null;
  private open = false;
  private queue: Buffer[] = [];
  private seq = 0;
  private sessionKey: Buffer | null = null;
  private failures = 0;
  private retryTimer: NodeJS.Timeout | null = null;
  private closed = false;
  private dropped = 0;

  constructor(
    private readonly cfg: Resolved,
    private readonly peer: NodeId,
    private readonly addr: { host: string; port: number },
  ) {}

  enqueue(message: Buffer): void {
    if (this.closed) return;
    if (this.open && this.queue.length === 0 && this.socket!.writableLength < this.cfg.highWater) {
      this.write(message);
      return;
    }
    this.queue.push(message);
    if (this.queue.length > this.cfg.maxQueued) {
      const n = this.queue.length - this.cfg.maxQueued;
      this.queue.splice(0, n);
      this.dropped += n;
      // Report drops in batches, not per message: a down peer drops a stream of heartbeats.
      if (this.dropped >= 100 || this.dropped === n) {
        this.cfg.emit({ type: "dropped", peer: this.peer, count: this.dropped, reason: "send queue full" });
        this.dropped = 0;
      }
    }
    if (!this.socket && !this.retryTimer) this.dial();
    if (this.open) this.flush();
  }

  private write(message: Buffer): void {
    this.seq++;
    this.socket!.write(frame(sealData(this.sessionKey!, this.seq, message)));
  }

  private flush(): void {
    while (this.open && this.queue.length > 0 && this.socket!.writableLength < this.cfg.highWater) {
      this.write(this.queue.shift()!);
    }
  }

  private dial(): void {
    if (this.closed) return;
    const socket = connect({ host: this.addr.host, port: this.addr.port });
    this.socket = socket;
    socket.setNoDelay(true);
    const decoder = new FrameDecoder(MAX_HANDSHAKE_FRAME_BYTES);
    const clientNonce = newNonce();
    const hello = { version: PROTOCOL_VERSION, clusterId: this.cfg.clusterId, from: this.cfg.id, to: this.peer, clientNonce };
    let done = false;
    const timer = setTimeout(() => fail("handshake timed out"), this.cfg.handshakeTimeoutMs);
    const fail = (reason: string): void => {
      if (socket.destroyed) return;
      this.cfg.emit({ type: "disconnected", peer: this.peer, direction: "out", reason });
      socket.destroy();
    };
    socket.on("connect", () => socket.write(frame(encodeHello(hello))));
    socket.on("data", (chunk: Buffer) => {
      if (done) return fail("unexpected data from the receiving side");
      let bodies: Buffer[];
      try {
        bodies = decoder.push(chunk);
      } catch (e) {
        return fail((e as Error).message);
      }
      for (const body of bodies) {
        try {
          const ch = decodeChallenge(body);
          const keys = handshakeKeys(this.cfg.secret, hello, ch.serverNonce);
          if (!macEqual(keys.serverProof, ch.serverProof)) return fail(`peer "${this.peer}" failed authentication (wrong LITEFS_RAFT_SECRET?)`);
          socket.write(frame(encodeAuth(keys.clientProof)));
          clearTimeout(timer);
          done = true;
          this.sessionKey = keys.sessionKey;
          this.seq = 0;
          this.open = true;
          this.failures = 0;
          this.cfg.emit({ type: "connected", peer: this.peer, direction: "out" });
          this.flush();
        } catch (e) {
          return fail((e as Error).message);
        }
      }
    });
    socket.on("drain", () => this.flush());
    socket.on("error", (e) => fail(e.message));
    socket.on("close", () => {
      clearTimeout(timer);
      if (this.socket === socket) {
        this.socket = null;
        this.open = false;
        this.sessionKey = null;
        this.scheduleReconnect();
      }
    });
  }

  private scheduleReconnect(): void {
    if (this.closed || this.retryTimer) return;
    this.failures++;
    const base = Math.min(this.cfg.reconnectMaxMs, this.cfg.reconnectMinMs * 2 ** Math.min(this.failures - 1, 16));
    // Jitter so peers restarted together do not reconnect in lockstep.
    const delay = base / 2 + Math.random() * (base / 2);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      this.dial();
    }, delay);
  }

  close(): void {
    this.closed = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
    this.socket?.destroy();
    this.socket = null;
    this.queue = [];
  }
}
