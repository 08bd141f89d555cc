// The HTTP front end LiteFS talks to (lease.consul.url = http://127.0.0.1:<leasePort>): routes the
// Consul subset to the lease service and answers every request within the deadline D (500 when
// it cannot: no Raft leader, no quorum), since LiteFS's Consul client has no timeout of its own.

import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { constantTimeEqual } from "../digest.js";
import { listenOn, readBodyUpTo } from "../net-io.js";
import { kvEntryJson, parseConsulRequest, sessionJson } from "./consul-wire.js";
import { MAX_KV_VALUE_BYTES } from "./limits.js";
import type { LeasePolicy } from "./rules.js";
import type { LeaseReply, LeaseRequest } from "./types.js";

/** LiteFS relies on an answer within 1 s (docs/raft-lease.md: 2D + R < T + lock-delay). */
const DEFAULT_ANSWER_DEADLINE_MS = 1000;

export interface ConsulHttpOptions {
  /** Runs one operation for this host's LiteFS (LeaseService.handle). */
  readonly handle: (request: LeaseRequest, startedAt: number, budgetMs: number) => Promise<LeaseReply>;
  /** Monotonic ms (the service's clock), to stamp arrivals. */
  readonly now: () => number;
  /** Consul `Node` for sessions created without one. */
  readonly nodeName: string;
  /** Every request must carry it (X-Consul-Token, ?token= or Authorization: Bearer). */
  readonly token: string;
  /** The key LiteFS locks and the minimum session TTL: everything else is refused (rules.ts). */
  readonly policy: LeasePolicy;
  readonly deadlineMs?: number;
  /** X-Consul-Knownleader: whether a Raft leader is known right now. */
  readonly knownLeader?: () => boolean;
  readonly onError?: (error: Error) => void;
}

export interface ConsulHttpServer {
  readonly server: Server;
  readonly port: number;
  close(): Promise<void>;
}

/** Whether the request carried the expected token (compared in constant time). */
function tokenMatches(expected: string, given: string | null): boolean {
  return given !== null && constantTimeEqual(expected, given);
}

function requestToken(req: IncomingMessage, url: URL): string | null {
  const header = req.headers["x-consul-token"];
  if (typeof header === "string") return header;
  const auth = req.headers.authorization;
  if (typeof auth === "string" && auth.startsWith("Bearer ")) return auth.slice("Bearer ".length);
  return url.searchParams.get("token");
}

interface Answer {
  readonly status: number;
  readonly body: string;
  readonly json: boolean;
  readonly index?: number;
}

function answerFor(request: LeaseRequest, reply: LeaseReply): Answer {
  switch (reply.kind) {
    case "error":
      return { status: reply.status, body: reply.message, json: false };
    case "created":
      return { status: 200, body: JSON.stringify({ ID: reply.id }), json: true };
    case "renewed":
      if (!reply.session) {
        const id = request.op === "session-renew" ? request.id : "";
        return { status: 404, body: `Session id '${id}' not found`, json: false };
      }
      return {
        status: 200,
        body: JSON.stringify([sessionJson(reply.session)]),
        json: true,
        index: reply.session.modifyIndex,
      };
    case "bool":
      return { status: 200, body: reply.value ? "true" : "false", json: true };
    case "kv":
      if (!reply.entry) return { status: 404, body: "", json: false, index: reply.index };
      return { status: 200, body: JSON.stringify([kvEntryJson(reply.entry)]), json: true, index: reply.index };
  }
}

export async function startConsulHttpServer(
  options: ConsulHttpOptions & { readonly host?: string; readonly port: number },
): Promise<ConsulHttpServer> {
  const deadlineMs = options.deadlineMs ?? DEFAULT_ANSWER_DEADLINE_MS;
  const onError = options.onError ?? (() => {});
  const send = (res: ServerResponse, a: Answer): void => {
    if (res.headersSent || res.destroyed) return;
    const headers: Record<string, string> = {
      "content-type": a.json ? "application/json" : "text/plain; charset=utf-8",
      "x-consul-knownleader": options.knownLeader?.() === false ? "false" : "true",
      "x-consul-lastcontact": "0",
    };
    if (a.index !== undefined) headers["x-consul-index"] = String(a.index);
    res.writeHead(a.status, headers);
    res.end(a.body);
  };

  const server = createServer((req, res) => {
    const startedAt = options.now();
    const url = new URL(req.url ?? "/", "http://127.0.0.1");
    // One timer bounds everything, reading the body included.
    const timer = setTimeout(() => {
      send(res, {
        status: 500,
        body: `lease service: no answer within ${deadlineMs} ms (no Raft leader or no quorum reachable)`,
        json: false,
      });
    }, deadlineMs);
    const finish = (a: Answer): void => {
      clearTimeout(timer);
      send(res, a);
    };
    if (!tokenMatches(options.token, requestToken(req, url))) {
      req.resume();
      finish({ status: 403, body: "Permission denied", json: false });
      return;
    }
    // Every body LiteFS sends (a session, a ~100-byte primary info) is far below the value limit.
    readBodyUpTo(req, MAX_KV_VALUE_BYTES)
      .then(async (body) => {
        if (body === null)
          return finish({ status: 413, body: `Request body exceeds ${MAX_KV_VALUE_BYTES} bytes`, json: false });
        const parsed = parseConsulRequest(req.method ?? "GET", req.url ?? "/", body, options.nodeName, options.policy);
        if (!parsed.ok) return finish({ status: parsed.status, body: parsed.message, json: false });
        const request = parsed.request;
        // LiteFS registers a catalog node only when its Consul URL has a path; nothing to keep.
        if (request.op === "catalog-register") return finish({ status: 200, body: "true", json: true });
        const budget = Math.max(0, deadlineMs - (options.now() - startedAt) - 50);
        const reply = await options.handle(request, startedAt, budget);
        finish(answerFor(request, reply));
      })
      .catch((error: unknown) => {
        const e = error instanceof Error ? error : new Error(String(error));
        onError(e);
        finish({ status: 500, body: `lease service error: ${e.message}`, json: false });
      });
  });
  server.keepAliveTimeout = 65_000;
  const { port } = await listenOn(server, options.port, options.host ?? "127.0.0.1");
  return {
    server,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
