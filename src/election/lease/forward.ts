// Follower -> leader forwarding of lease operations. The Raft transport carries only Raft
// messages, so each lease service also listens on its Raft host (ephemeral port) for operations
// forwarded by peers; a new leader announces that address in the Raft log (command `announce`),
// so followers learn where to forward without any extra setting.
//
// Requests are authenticated with HMAC-SHA256 under the Raft shared secret, over a timestamp and
// the body; a stale timestamp (more than 30 s off) is refused, which bounds replays.

import { createHmac, timingSafeEqual } from "node:crypto";
import { createServer, request as httpRequest, Agent, type Server } from "node:http";
import type { NodeId } from "../raft/types.js";
import { MAX_LEASE_REQUEST_BYTES } from "./limits.js";
import type { Forwarder, LeaseReply, LeaseRequest } from "./types.js";

const PATH = "/v1/internal/lease-forward";
const MAX_SKEW_MS = 30_000;
// The same limit as the HTTP front end's (limits.ts): whatever LiteFS may send forwards too.
const MAX_BODY = MAX_LEASE_REQUEST_BYTES;

function sign(secret: string, time: string, body: string): string {
  return createHmac("sha256", secret).update(`litefs-node lease-forward v1\n${time}\n${body}`).digest("hex");
}

function signatureOk(secret: string, time: string, body: string, given: string): boolean {
  const expected = Buffer.from(sign(secret, time, body), "hex");
  const got = Buffer.from(given, "hex");
  return got.length === expected.length && timingSafeEqual(got, expected);
}

export interface ForwardServer {
  readonly server: Server;
  /** "host:port" peers use (announced in the Raft log). */
  readonly advertiseAddr: string;
  close(): Promise<void>;
}

export async function startForwardServer(options: {
  readonly secret: string;
  /** Interface to listen on (e.g. "0.0.0.0" or the Raft host). */
  readonly listenHost: string;
  readonly port?: number;
  /** Host peers reach this node by (the Raft selfAddr host). */
  readonly advertiseHost: string;
  readonly execute: (request: LeaseRequest) => Promise<LeaseReply>;
}): Promise<ForwardServer> {
  const server = createServer((req, res) => {
    const reply = (status: number, body: unknown): void => {
      res.writeHead(status, { "content-type": "application/json" });
      res.end(JSON.stringify(body));
    };
    if (req.method !== "POST" || req.url !== PATH) {
      req.resume();
      return reply(404, { error: "not found" });
    }
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (c: Buffer) => {
      size += c.length;
      if (size <= MAX_BODY) chunks.push(c);
    });
    req.on("end", () => {
      const body = Buffer.concat(chunks).toString("utf8");
      const time = String(req.headers["x-lease-forward-time"] ?? "");
      const mac = String(req.headers["x-lease-forward-mac"] ?? "");
      if (size > MAX_BODY) return reply(413, { error: "too large" });
      if (!/^\d+$/.test(time) || Math.abs(Date.now() - Number(time)) > MAX_SKEW_MS || !signatureOk(options.secret, time, body, mac)) {
        return reply(403, { error: "bad or stale signature" });
      }
      let request: LeaseRequest;
      try {
        request = JSON.parse(body) as LeaseRequest;
      } catch {
        return reply(400, { error: "not JSON" });
      }
      options.execute(request).then(
        (r) => reply(200, r),
        (e: unknown) => reply(200, { kind: "error", status: 500, message: `leader failed: ${(e as Error).message}` } satisfies LeaseReply),
      );
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, options.listenHost, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const a = server.address();
  const port = a && typeof a === "object" ? a.port : 0;
  const host = options.advertiseHost.includes(":") ? `[${options.advertiseHost}]` : options.advertiseHost;
  return {
    server,
    advertiseAddr: `${host}:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** A Forwarder that looks the leader's address up (from the replicated announcements) and POSTs. */
export function httpForwarder(options: { readonly secret: string; readonly addressOf: (leader: NodeId) => string | null }): Forwarder & { close(): void } {
  const agent = new Agent({ keepAlive: true, maxSockets: 8 });
  const forward = (leader: NodeId, request: LeaseRequest, timeoutMs: number): Promise<LeaseReply> => {
    const addr = options.addressOf(leader);
    if (addr === null) return Promise.reject(new Error(`the leader ${leader} has not announced its forwarding address yet`));
    if (timeoutMs <= 0) return Promise.reject(new Error("no time left to forward"));
    const m = /^(\[[^\]]+\]|[^:]+):(\d+)$/.exec(addr);
    if (!m) return Promise.reject(new Error(`bad forwarding address ${addr}`));
    const body = JSON.stringify(request);
    const time = String(Date.now());
    return new Promise<LeaseReply>((resolve, reject) => {
      const req = httpRequest(
        {
          host: m[1]!.replace(/^\[|\]$/g, ""),
          port: Number(m[2]),
          method: "POST",
          path: PATH,
          agent,
          timeout: timeoutMs,
          headers: { "content-type": "application/json", "x-lease-forward-time": time, "x-lease-forward-mac": sign(options.secret, time, body) },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on("data", (c: Buffer) => chunks.push(c));
          res.on("end", () => {
            if (res.statusCode !== 200) return reject(new Error(`leader answered HTTP ${res.statusCode}`));
            try {
              resolve(JSON.parse(Buffer.concat(chunks).toString("utf8")) as LeaseReply);
            } catch (e) {
              reject(e as Error);
            }
          });
          res.on("error", reject);
        },
      );
      const timer = setTimeout(() => req.destroy(new Error(`no answer from the leader within ${timeoutMs} ms`)), timeoutMs);
      req.on("close", () => clearTimeout(timer));
      req.on("timeout", () => req.destroy(new Error(`no answer from the leader within ${timeoutMs} ms`)));
      req.on("error", reject);
      req.end(body);
    });
  };
  return Object.assign(forward, { close: () => agent.destroy() });
}
