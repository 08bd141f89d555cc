// Follower -> leader forwarding of lease operations. The Raft transport carries only Raft
// messages, so each lease service also listens on its Raft host for operations forwarded by
// peers; a new leader announces that address in the Raft log (command `announce`), so followers
// learn where to forward. The port is raft.forwardPort (random when unset).
//
// The channel is HTTPS over TLS 1.3 with a pre-shared key derived from raft.secret
// (../raft/tls-psk.ts, its own identity and key for this use): encrypted, both sides
// authenticated, and a recorded request cannot be replayed (every connection has fresh keys and
// node does no 0-RTT). A version header lets members of different versions refuse each other with
// a clear error. Strangers are bounded like on the Raft port (../raft/connection-gate.ts):
// per-source and total connection caps with slots kept for members, 1 s to finish TLS, and
// header, request and keep-alive timeouts, so idle connections are closed.

import { createServer, request as httpsRequest, Agent, type Server } from "node:https";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Socket } from "node:net";
import { formatHostPort, parseHostPort } from "../config/addresses.js";
import { ConnectionGate } from "../raft/connection-gate.js";
import { describeTlsFailure, pskChannel, pskClientOptions, pskServerOptions } from "../raft/tls-psk.js";
import type { NodeId } from "../raft/types.js";
import { listenOn, readBodyUpTo } from "../net-io.js";
import { MAX_LEASE_REQUEST_BYTES } from "./limits.js";
import type { Forwarder, LeaseReply, LeaseRequest } from "./types.js";

const PATH = "/v1/internal/lease-forward";
const VERSION_HEADER = "x-litefs-lease-forward-version";
/** 1 was plain HTTP with an HMAC over a timestamp; 2 is HTTPS with TLS-PSK. */
const FORWARD_PROTOCOL_VERSION = 2;
// The same limit as the HTTP front end's (limits.ts): whatever LiteFS may send forwards too.
const MAX_BODY = MAX_LEASE_REQUEST_BYTES;
// A reply holds at most one session or one KV entry (limits.ts: values of 4 KiB); far below this.
const MAX_REPLY_BYTES = 1024 * 1024;

interface ForwardLimits {
  /** Connections at once (default 64), per source address (default 16), kept for members (default 16). */
  readonly maxConnections?: number;
  readonly maxConnectionsPerSource?: number;
  readonly reservedForPeers?: number;
  /** Time to finish TLS (default 1000 ms). */
  readonly handshakeTimeoutMs?: number;
  /** An idle keep-alive connection is closed after this (default 5000 ms). */
  readonly idleTimeoutMs?: number;
}

export interface ForwardServer {
  readonly server: Server;
  /** "host:port" peers use (announced in the Raft log). */
  readonly advertiseAddr: string;
  close(): Promise<void>;
}

interface ForwardServerOptions {
  readonly secret: string;
  readonly clusterId: string;
  /** Address to listen on: the resolved raft.selfAddr host, never a wildcard. */
  readonly listenHost: string;
  /** raft.forwardPort; 0 or unset = a free port. */
  readonly port?: number;
  /** Host peers reach this node by (the Raft selfAddr host). */
  readonly advertiseHost: string;
  /** Hosts of every member, for the reserved connection slots. */
  readonly memberHosts: readonly string[];
  readonly limits?: ForwardLimits;
  readonly execute: (request: LeaseRequest) => Promise<LeaseReply>;
  readonly onRejected?: (remote: string, reason: string) => void;
}

type Execute = ForwardServerOptions["execute"];
type Rejected = (remote: string, reason: string) => void;

export async function startForwardServer(options: ForwardServerOptions): Promise<ForwardServer> {
  const limits = options.limits ?? {};
  const handshakeMs = limits.handshakeTimeoutMs ?? 1000;
  const idleMs = limits.idleTimeoutMs ?? 5000;
  const rejected = options.onRejected ?? (() => {});
  const channel = pskChannel(options.secret, options.clusterId, "lease-forward");
  const gate = new ConnectionGate({
    total: limits.maxConnections ?? 64,
    perSource: limits.maxConnectionsPerSource ?? 16,
    reservedForPeers: limits.reservedForPeers ?? 16,
    memberHosts: options.memberHosts,
  });
  await gate.refresh();
  const server = createServer(
    pskServerOptions(channel, handshakeMs, (identity) =>
      rejected(
        "?",
        `TLS-PSK identity "${identity}" is not this cluster's lease forwarding identity: cluster id mismatch`,
      ),
    ),
    (req, res) => handleForwardRequest(req, res, options.execute),
  );
  setHttpTimeouts(server, handshakeMs, idleMs);
  const handshakes = guardConnections(server, gate, handshakeMs, rejected);
  const { port } = await listenOn(server, options.port ?? 0, options.listenHost);
  // Member addresses may resolve differently over time (DNS): the reserved slots follow them.
  const refreshTimer = setInterval(() => void gate.refresh(), 30_000);
  refreshTimer.unref();
  return {
    server,
    advertiseAddr: formatHostPort(options.advertiseHost, port),
    close: () =>
      new Promise<void>((resolve) => {
        clearInterval(refreshTimer);
        handshakes.cancelAll();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** One forwarded lease operation: checks route and protocol version, reads the body, runs it on this leader. */
function handleForwardRequest(req: IncomingMessage, res: ServerResponse, execute: Execute): void {
  const reply = (status: number, body: unknown): void => {
    res.writeHead(status, { "content-type": "application/json" });
    res.end(JSON.stringify(body));
  };
  if (req.method !== "POST" || req.url !== PATH) {
    req.resume();
    return reply(404, { error: "not found" });
  }
  const version = Number(req.headers[VERSION_HEADER] ?? 1);
  if (version !== FORWARD_PROTOCOL_VERSION) {
    req.resume();
    return reply(400, { error: versionMismatch(version) });
  }
  readBodyUpTo(req, MAX_BODY).then(
    (body) => {
      if (body === null) return reply(413, { error: "too large" });
      let request: LeaseRequest;
      try {
        request = JSON.parse(body.toString("utf8")) as LeaseRequest;
      } catch {
        return reply(400, { error: "not JSON" });
      }
      // The leader's own failure is a lease answer (HTTP 200), so the follower relays it to LiteFS
      // as the error it is instead of taking it for a broken channel.
      execute(request).then(
        (r) => reply(200, r),
        (e: unknown) =>
          reply(200, {
            kind: "error",
            status: 500,
            message: `leader failed: ${(e as Error).message}`,
          } satisfies LeaseReply),
      );
      // A request that broke off mid-body has no one to answer: drop the response with it.
    },
    () => res.destroy(),
  );
}

/** node's HTTP timeouts, so a slow or idle peer cannot hold a connection open. */
function setHttpTimeouts(server: Server, handshakeMs: number, idleMs: number): void {
  server.headersTimeout = 2 * handshakeMs + idleMs;
  server.requestTimeout = 10_000;
  server.keepAliveTimeout = idleMs;
  server.timeout = idleMs;
}

/**
 * Admits each raw connection through the gate (caps per source and in total) and gives it
 * `handshakeMs` to finish TLS; refusals and TLS failures go to `rejected`. The returned
 * cancelAll() clears the handshake deadlines still pending (on close).
 */
function guardConnections(
  server: Server,
  gate: ConnectionGate,
  handshakeMs: number,
  rejected: Rejected,
): { cancelAll(): void } {
  const pending = new Map<string, NodeJS.Timeout>();
  server.on("connection", (raw: Socket) => {
    const remote = `${raw.remoteAddress}:${raw.remotePort}`;
    const refused = gate.admit(raw);
    if (refused !== null) {
      rejected(remote, refused);
      raw.destroy();
      return;
    }
    // TLS must be done within the deadline; HTTP's own timeouts take over afterwards.
    const timer = setTimeout(() => raw.destroy(), handshakeMs);
    raw.once("close", () => clearTimeout(timer));
    pending.set(remote, timer);
  });
  server.on("secureConnection", (s: Socket) => {
    const key = `${s.remoteAddress}:${s.remotePort}`;
    clearTimeout(pending.get(key));
    pending.delete(key);
  });
  server.on("tlsClientError", (e: Error, s: Socket) => {
    rejected(`${s.remoteAddress}:${s.remotePort}`, describeTlsFailure(e));
    s.destroy();
  });
  return {
    cancelAll: () => {
      for (const t of pending.values()) clearTimeout(t);
    },
  };
}

function versionMismatch(theirs: number): string {
  return `lease forwarding protocol version mismatch: the follower speaks ${theirs}, this leader speaks ${FORWARD_PROTOCOL_VERSION}; run the same litefs-node version on every member`;
}

/** A Forwarder that looks the leader's address up (from the replicated announcements) and POSTs. */
export function httpForwarder(options: {
  readonly secret: string;
  readonly clusterId: string;
  readonly addressOf: (leader: NodeId) => string | null;
}): Forwarder & { close(): void } {
  const agent = new Agent({
    keepAlive: true,
    maxSockets: 8,
    ...pskClientOptions(pskChannel(options.secret, options.clusterId, "lease-forward")),
  });
  const forward = (leader: NodeId, request: LeaseRequest, timeoutMs: number): Promise<LeaseReply> => {
    const addr = options.addressOf(leader);
    if (addr === null)
      return Promise.reject(new Error(`the leader ${leader} has not announced its forwarding address yet`));
    if (timeoutMs <= 0) return Promise.reject(new Error("no time left to forward"));
    const parsed = parseHostPort(addr);
    if (!parsed.ok) return Promise.reject(new Error(`bad forwarding address ${addr}: ${parsed.message}`));
    const body = JSON.stringify(request);
    return new Promise<LeaseReply>((resolve, reject) => {
      const req = httpsRequest(
        {
          host: parsed.value.host,
          port: parsed.value.port,
          method: "POST",
          path: PATH,
          agent,
          timeout: timeoutMs,
          headers: { "content-type": "application/json", [VERSION_HEADER]: String(FORWARD_PROTOCOL_VERSION) },
        },
        (res) => {
          readBodyUpTo(res, MAX_REPLY_BYTES).then((body) => {
            if (body === null) return reject(new Error(`the leader's answer exceeds ${MAX_REPLY_BYTES} bytes`));
            const text = body.toString("utf8");
            if (res.statusCode !== 200)
              return reject(new Error(`leader answered HTTP ${res.statusCode}: ${text.slice(0, 300)}`));
            try {
              resolve(JSON.parse(text) as LeaseReply);
            } catch (e) {
              reject(e);
            }
          }, reject);
        },
      );
      const timer = setTimeout(
        () => req.destroy(new Error(`no answer from the leader within ${timeoutMs} ms`)),
        timeoutMs,
      );
      req.on("close", () => clearTimeout(timer));
      req.on("timeout", () => req.destroy(new Error(`no answer from the leader within ${timeoutMs} ms`)));
      req.on("error", (e) =>
        reject(/SSL|TLS|EPROTO/.test((e as NodeJS.ErrnoException).code ?? "") ? new Error(describeTlsFailure(e)) : e),
      );
      req.end(body);
    });
  };
  return Object.assign(forward, { close: () => agent.destroy() });
}
