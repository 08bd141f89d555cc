// Raft over TLS 1.3 with a pre-shared key derived from raft.secret (tls-psk.ts; frames:
// transport-frame.ts).
//
// Each node dials every peer once and uses that connection only to SEND; it RECEIVES on the
// connections its peers dial in. One direction per connection keeps the state simple and lets a
// fault-injecting proxy cut A->B without touching B->A.
//
// Sending never blocks: messages go to a bounded per-peer queue while the peer is unreachable or
// the socket is congested (a SIGSTOPped peer stops reading); when full, the oldest are dropped,
// which Raft tolerates (it retries with fresh heartbeats and appends). Reconnects back off
// exponentially with jitter.
//
// The listener is guarded against strangers (connection-gate.ts): per-source and total caps with
// slots reserved for members, about 1 s to finish TLS and the HELLO, a small frame limit until
// then, an idle timeout afterwards (senders PING when they have nothing to say), one inbound
// connection per member. Anything unauthenticated, oversized or malformed drops the connection.

import {
  connect as tlsConnect,
  createServer as createTlsServer,
  type Server as TlsServer,
  type TLSSocket,
} from "node:tls";
import type { Socket } from "node:net";
import { dialAddressOrThrow } from "../config/addresses.js";
import { backoffDelayMs } from "../backoff.js";
import { listenOn } from "../net-io.js";
import { ConfigError } from "../errors.js";
import { decodeMessage, encodeMessage, DEFAULT_CODEC_LIMITS } from "./codec.js";
import { ConnectionGate } from "./connection-gate.js";
import { describeTlsFailure, pskChannel, pskClientOptions, pskServerOptions, type PskChannel } from "./tls-psk.js";
import {
  dataFrame,
  decodeAnswer,
  decodeHello,
  encodeHello,
  encodeRefuse,
  encodeWelcome,
  frame,
  FRAME_DATA,
  FRAME_PING,
  FrameDecoder,
  isFrameTooLargeError,
  MAX_HANDSHAKE_FRAME_BYTES,
  PING_FRAME,
  PROTOCOL_VERSION,
  REFUSE_CLUSTER,
  REFUSE_IDENTITY,
  REFUSE_VERSION,
  versionMismatch,
} from "./transport-frame.js";
import type { RaftTransport, TransportEvent } from "./transport.js";
import type { Message, NodeId } from "./types.js";

export interface TcpTransportOptions {
  readonly id: NodeId;
  readonly clusterId: string;
  /** Shared secret (LITEFS_RAFT_SECRET); at least 16 characters. The TLS PSK is derived from it. */
  readonly secret: string;
  /** Where to listen (an address, never a wildcard in production); port 0 picks a free port. */
  readonly listen: { readonly host: string; readonly port: number };
  /** Peer id -> "host:port" (self excluded). */
  readonly peers: Readonly<Record<NodeId, string>>;
  /** This member's storage incarnation (storage-identity.ts), told to peers in the handshake. */
  readonly incarnation?: string;
  /**
   * Called once per handshake with the peer's incarnation before anything from it is used;
   * returns null to accept, or why the peer is refused (it re-created its storage).
   */
  readonly admitPeer?: (peer: NodeId, incarnation: string) => string | null;
  /** Largest frame accepted or sent; default: the codec's snapshot limit plus headroom. */
  readonly maxFrameBytes?: number;
  /** Messages queued per peer while it is unreachable or slow; default 1024. */
  readonly maxQueuedMessages?: number;
  /** Bytes allowed in a socket's write buffer before queuing instead; default 1 MiB. */
  readonly socketHighWaterBytes?: number;
  /** Time to finish TLS and then the HELLO, each; default 1000 ms. */
  readonly handshakeTimeoutMs?: number;
  /** An authenticated connection silent this long is closed; default 30 s (senders PING at a third). */
  readonly idleTimeoutMs?: number;
  readonly reconnectMinMs?: number;
  readonly reconnectMaxMs?: number;
  /** Inbound connections at once (default 64), per source address (default 8), kept for members (default 16). */
  readonly maxConnections?: number;
  readonly maxConnectionsPerSource?: number;
  readonly reservedForPeers?: number;
  readonly onEvent?: (event: TransportEvent) => void;
}

const MIN_SECRET_LENGTH = 16;

export interface TcpTransport extends RaftTransport {
  /** The bound listen address (the real port when 0 was asked). */
  readonly address: { readonly host: string; readonly port: number };
}

function checkSecret(secret: string): void {
  if (secret.length < MIN_SECRET_LENGTH) {
    throw new ConfigError([
      {
        setting: "raft.secret",
        env: "LITEFS_RAFT_SECRET",
        message: `the Raft peer secret must be at least ${MIN_SECRET_LENGTH} characters (got ${secret.length}); use the same random value on every node (openssl rand -hex 32)`,
      },
    ]);
  }
}

/** Starts listening and returns once the server is bound. */
export async function startTcpTransport(options: TcpTransportOptions): Promise<TcpTransport> {
  checkSecret(options.secret);
  for (const [id, addr] of Object.entries(options.peers)) {
    if (id === options.id)
      throw new ConfigError([
        { setting: "raft.peers", env: null, message: `peer list contains this node's own id "${id}"` },
      ]);
    dialAddressOrThrow(addr, `raft.peers.${id}`);
  }
  const t = new Transport(options);
  await t.listen();
  return t;
}

interface Resolved {
  readonly id: NodeId;
  readonly clusterId: string;
  readonly channel: PskChannel;
  readonly incarnation: string;
  readonly admitPeer: (peer: NodeId, incarnation: string) => string | null;
  readonly maxFrameBytes: number;
  readonly maxQueued: number;
  readonly highWater: number;
  readonly handshakeTimeoutMs: number;
  readonly idleTimeoutMs: number;
  readonly reconnectMinMs: number;
  readonly reconnectMaxMs: number;
  readonly emit: (e: TransportEvent) => void;
}

class Transport implements TcpTransport {
  private readonly cfg: Resolved;
  private readonly server: TlsServer;
  private readonly gate: ConnectionGate;
  private readonly senders = new Map<NodeId, PeerSender>();
  private readonly inbound = new Map<NodeId, TLSSocket>();
  private readonly sockets = new Set<Socket>();
  /** Pre-authentication deadlines by remote "address:port" (the raw and the TLS socket share it). */
  private readonly preAuth = new Map<string, NodeJS.Timeout>();
  private handler: (m: Message) => void = () => {};
  private closed = false;
  private bound: { host: string; port: number } | null = null;
  private refreshTimer: NodeJS.Timeout | null = null;

  constructor(private readonly options: TcpTransportOptions) {
    this.cfg = {
      id: options.id,
      clusterId: options.clusterId,
      channel: pskChannel(options.secret, options.clusterId, "raft"),
      incarnation: options.incarnation ?? "unknown",
      admitPeer: options.admitPeer ?? (() => null),
      maxFrameBytes: options.maxFrameBytes ?? DEFAULT_CODEC_LIMITS.maxSnapshotBytes + (1 << 20),
      maxQueued: options.maxQueuedMessages ?? 1024,
      highWater: options.socketHighWaterBytes ?? 1 << 20,
      handshakeTimeoutMs: options.handshakeTimeoutMs ?? 1000,
      idleTimeoutMs: options.idleTimeoutMs ?? 30_000,
      reconnectMinMs: options.reconnectMinMs ?? 50,
      reconnectMaxMs: options.reconnectMaxMs ?? 2000,
      emit: options.onEvent ?? (() => {}),
    };
    const peerAddrs = Object.entries(options.peers).map(
      ([id, addr]) => [id, dialAddressOrThrow(addr, `raft.peers.${id}`)] as const,
    );
    for (const [id, addr] of peerAddrs) this.senders.set(id, new PeerSender(this.cfg, id, addr));
    this.gate = new ConnectionGate({
      total: options.maxConnections ?? 64,
      perSource: options.maxConnectionsPerSource ?? 8,
      reservedForPeers: options.reservedForPeers ?? 16,
      memberHosts: peerAddrs.map(([, a]) => a.host),
    });
    this.server = createTlsServer(
      pskServerOptions(this.cfg.channel, this.cfg.handshakeTimeoutMs, (identity) =>
        this.cfg.emit({
          type: "rejected",
          remote: "?",
          reason: `TLS-PSK identity "${identity}" is not this cluster's ("${this.cfg.channel.identity}"): cluster id mismatch (the members' peer lists differ?)`,
        }),
      ),
      (s) => this.accept(s),
    );
    this.server.on("connection", (raw: Socket) => {
      const remote = `${raw.remoteAddress}:${raw.remotePort}`;
      const refused = this.closed ? "closing" : this.gate.admit(raw);
      if (refused !== null) {
        this.cfg.emit({ type: "rejected", remote, reason: refused });
        raw.destroy();
        return;
      }
      this.sockets.add(raw);
      // One deadline for TLS and the HELLO together; accept() cancels it once the HELLO is in.
      const timer = setTimeout(() => {
        this.cfg.emit({
          type: "rejected",
          remote,
          reason: `handshake not finished within ${this.cfg.handshakeTimeoutMs} ms`,
        });
        raw.destroy();
      }, this.cfg.handshakeTimeoutMs);
      this.preAuth.set(remote, timer);
      raw.once("close", () => {
        clearTimeout(timer);
        if (this.preAuth.get(remote) === timer) this.preAuth.delete(remote);
        this.sockets.delete(raw);
      });
    });
    this.server.on("tlsClientError", (e: Error, s: TLSSocket) => {
      this.cfg.emit({ type: "rejected", remote: `${s.remoteAddress}:${s.remotePort}`, reason: describeTlsFailure(e) });
      s.destroy();
    });
  }

  get address(): { host: string; port: number } {
    if (!this.bound) throw new Error("transport is not listening");
    return this.bound;
  }

  async listen(): Promise<void> {
    await this.gate.refresh();
    // Members' addresses may change when they restart (containers): keep the reserved slots right.
    this.refreshTimer = setInterval(() => void this.gate.refresh(), 30_000);
    this.refreshTimer.unref();
    const bound = await listenOn(this.server, this.options.listen.port, this.options.listen.host);
    this.bound = { host: bound.address, port: bound.port };
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

  /** Why a peer's HELLO is refused (the REFUSE_* code and the reason), or null to admit it. */
  private helloRefusal(hello: ReturnType<typeof decodeHello>): { code: number; reason: string } | null {
    if (hello.version !== PROTOCOL_VERSION) return { code: REFUSE_VERSION, reason: versionMismatch(hello.version) };
    if (hello.clusterId !== this.cfg.clusterId)
      return {
        code: REFUSE_CLUSTER,
        reason: `cluster id mismatch: the peer is in "${hello.clusterId}", this member in "${this.cfg.clusterId}"`,
      };
    if (hello.to !== this.cfg.id)
      return { code: REFUSE_CLUSTER, reason: `the peer dialed "${hello.to}" but reached "${this.cfg.id}"` };
    if (!this.senders.has(hello.from))
      return { code: REFUSE_CLUSTER, reason: `"${hello.from}" is not a member of this cluster` };
    const refusal = this.cfg.admitPeer(hello.from, hello.incarnation);
    return refusal === null ? null : { code: REFUSE_IDENTITY, reason: refusal };
  }

  /** A TLS-authenticated inbound connection: HELLO, then DATA and PING frames. */
  private accept(socket: TLSSocket): void {
    const remote = `${socket.remoteAddress}:${socket.remotePort}`;
    if (this.closed) {
      socket.destroy();
      return;
    }
    socket.setNoDelay(true);
    const decoder = new FrameDecoder(MAX_HANDSHAKE_FRAME_BYTES);
    let peer: NodeId | null = null;
    const reject = (reason: string): void => {
      if (socket.destroyed) return;
      if (peer !== null) this.cfg.emit({ type: "disconnected", peer, direction: "in", reason });
      else this.cfg.emit({ type: "rejected", remote, reason });
      socket.destroy();
    };
    const refuse = (code: number, reason: string, fatalForPeer: string | null): void => {
      if (fatalForPeer !== null)
        this.cfg.emit({ type: "refused", peer: fatalForPeer, direction: "in", reason, fatal: false });
      socket.end(frame(encodeRefuse(code, reason)));
      setTimeout(() => socket.destroy(), 1000).unref();
      reject(reason);
    };
    socket.on("close", () => {
      if (peer !== null && this.inbound.get(peer) === socket) this.inbound.delete(peer);
    });
    socket.on("error", () => {});
    socket.on("timeout", () => reject(`idle for ${this.cfg.idleTimeoutMs} ms`));
    socket.on("data", (chunk: Buffer) => {
      decoder.append(chunk);
      for (;;) {
        if (socket.destroyed || socket.writableEnded) return;
        let body: Buffer | null;
        try {
          body = decoder.next();
        } catch (e) {
          return reject(isFrameTooLargeError(e) ? e.message : String(e));
        }
        if (body === null) return;
        try {
          if (peer === null) {
            const hello = decodeHello(body);
            const refusal = this.helloRefusal(hello);
            if (refusal !== null)
              return refuse(refusal.code, refusal.reason, refusal.code === REFUSE_VERSION ? remote : hello.from);
            peer = hello.from;
            clearTimeout(this.preAuth.get(remote));
            this.preAuth.delete(remote);
            socket.write(frame(encodeWelcome(this.cfg.incarnation)));
            decoder.setLimit(this.cfg.maxFrameBytes);
            socket.setTimeout(this.cfg.idleTimeoutMs);
            // A peer has one sending connection: a new one means the old is dead or half-open.
            this.inbound.get(peer)?.destroy();
            this.inbound.set(peer, socket);
            this.cfg.emit({ type: "connected", peer, direction: "in" });
          } else if (body[0] === FRAME_DATA) {
            const m = decodeMessage(body.subarray(1));
            // The handshake bound this connection to one sender in one cluster.
            if (m.from !== peer || m.to !== this.cfg.id || m.clusterId !== this.cfg.clusterId) {
              return reject(`message ${m.from}->${m.to} in cluster "${m.clusterId}" on the connection of "${peer}"`);
            }
            this.handler(m);
          } else if (body[0] !== FRAME_PING) {
            return reject(`unexpected frame kind ${body[0]}`);
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
    if (this.refreshTimer) clearInterval(this.refreshTimer);
    for (const s of this.senders.values()) s.close();
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

/** The outbound side towards one peer: connection, handshake, queue, reconnect. */
class PeerSender {
  private socket: TLSSocket | null = null;
  private open = false;
  private queue: Buffer[] = [];
  private failures = 0;
  private retryTimer: NodeJS.Timeout | null = null;
  private pingTimer: NodeJS.Timeout | null = null;
  private wroteSincePing = false;
  private closed = false;
  private dropped = 0;
  /** Set when the peer refused this member for good (its storage was re-created): no redial. */
  private fatal = false;

  constructor(
    private readonly cfg: Resolved,
    private readonly peer: NodeId,
    private readonly addr: { host: string; port: number },
  ) {}

  enqueue(message: Buffer): void {
    if (this.closed || this.fatal) return;
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
    this.wroteSincePing = true;
    this.socket!.write(dataFrame(message));
  }

  private flush(): void {
    while (this.open && this.queue.length > 0 && this.socket!.writableLength < this.cfg.highWater) {
      this.write(this.queue.shift()!);
    }
  }

  private dial(): void {
    if (this.closed || this.fatal) return;
    const socket = tlsConnect({ host: this.addr.host, port: this.addr.port, ...pskClientOptions(this.cfg.channel) });
    this.socket = socket;
    socket.setNoDelay(true);
    const decoder = new FrameDecoder(MAX_HANDSHAKE_FRAME_BYTES);
    let secure = false;
    let done = false;
    // TLS plus HELLO/WELCOME: the listener gives each half handshakeTimeoutMs.
    const timer = setTimeout(() => fail("handshake timed out"), 2 * this.cfg.handshakeTimeoutMs);
    const fail = (reason: string): void => {
      if (socket.destroyed) return;
      this.cfg.emit({ type: "disconnected", peer: this.peer, direction: "out", reason });
      socket.destroy();
    };
    socket.on("secureConnect", () => {
      secure = true;
      this.sendHello(socket);
    });
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
          const refusal = this.judgeAnswer(body);
          if (refusal !== null) return fail(refusal);
          clearTimeout(timer);
          done = true;
          this.opened(socket);
        } catch (e) {
          return fail((e as Error).message);
        }
      }
    });
    socket.on("drain", () => this.flush());
    socket.on("error", (e: Error) => {
      this.cfg.emit({
        type: "disconnected",
        peer: this.peer,
        direction: "out",
        reason: secure ? e.message : describeTlsFailure(e),
      });
      socket.destroy();
    });
    socket.on("close", () => {
      clearTimeout(timer);
      if (this.socket === socket) {
        this.socket = null;
        this.open = false;
        this.stopPings();
        this.scheduleReconnect();
      }
    });
  }

  private sendHello(socket: TLSSocket): void {
    const hello = encodeHello({
      version: PROTOCOL_VERSION,
      clusterId: this.cfg.clusterId,
      from: this.cfg.id,
      to: this.peer,
      incarnation: this.cfg.incarnation,
    });
    socket.write(frame(hello));
  }

  /** The receiving side's answer to our HELLO: null when it admits us, else why the dial fails. */
  private judgeAnswer(body: Buffer): string | null {
    const answer = decodeAnswer(body);
    if (answer.kind === "refuse") {
      const fatal = answer.code === REFUSE_IDENTITY;
      this.fatal ||= fatal;
      const reason = answer.version === PROTOCOL_VERSION ? answer.reason : versionMismatch(answer.version);
      this.cfg.emit({ type: "refused", peer: this.peer, direction: "out", reason, fatal });
      return `refused: ${answer.reason}`;
    }
    if (answer.version !== PROTOCOL_VERSION) {
      const reason = versionMismatch(answer.version);
      this.cfg.emit({ type: "refused", peer: this.peer, direction: "out", reason, fatal: false });
      return reason;
    }
    const refusal = this.cfg.admitPeer(this.peer, answer.incarnation);
    if (refusal !== null) {
      this.cfg.emit({ type: "refused", peer: this.peer, direction: "out", reason: refusal, fatal: false });
    }
    return refusal;
  }

  /** The handshake succeeded: the queue may flow. */
  private opened(socket: TLSSocket): void {
    this.open = true;
    this.failures = 0;
    this.startPings(socket);
    this.cfg.emit({ type: "connected", peer: this.peer, direction: "out" });
    this.flush();
  }

  /** Keeps the connection inside the listener's idle timeout when Raft has nothing to send. */
  private startPings(socket: TLSSocket): void {
    this.stopPings();
    this.pingTimer = setInterval(
      () => {
        if (!this.wroteSincePing && this.socket === socket && this.open) socket.write(PING_FRAME);
        this.wroteSincePing = false;
      },
      Math.max(10, Math.floor(this.cfg.idleTimeoutMs / 3)),
    );
    this.pingTimer.unref();
  }

  private stopPings(): void {
    if (this.pingTimer) clearInterval(this.pingTimer);
    this.pingTimer = null;
  }

  private scheduleReconnect(): void {
    if (this.closed || this.fatal || this.retryTimer) return;
    this.failures++;
    const delay = backoffDelayMs(this.failures, { initialMs: this.cfg.reconnectMinMs, maxMs: this.cfg.reconnectMaxMs });
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      this.dial();
    }, delay);
  }

  close(): void {
    this.closed = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
    this.stopPings();
    this.socket?.destroy();
    this.socket = null;
    this.queue = [];
  }
}
