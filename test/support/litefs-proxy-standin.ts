// A stand-in for LiteFS v0.5.14's built-in proxy (`proxy:` section), answering exactly as
// /work/shared/docs/litefs-contract.md records (copied here: tests cannot read /work/shared):
//   - a write (anything but GET/HEAD) to a REPLICA is not forwarded: 200, empty body,
//     `Fly-Replay: instance=<primary hostname>`; the app never sees it;
//   - a write through the PRIMARY is proxied to the target and answered with
//     `Set-Cookie: __txid=<16 hex>; Path=/; Expires=+5m; HttpOnly` (the position after the write);
//   - a GET/HEAD carrying `__txid` ahead of this node waits for replication, then proxies;
//     `504 Proxy timeout` after 5 s (configurable here to keep tests fast);
//   - `GET /litefs/health` -> 200 OK (503 when lag exceeds max-lag).
// What the contract does not record (a replica that knows no primary) answers 503 and says so.
//
// Usage:
//   const standin = await startLiteFSProxyStandin({ target: appUrl, state: { isPrimary: () => false,
//     primaryHostname: () => "node-a", txid: () => node.txid() ?? 0n } });
//   ... standin.url ...; standin.requests (what reached the stand-in); await standin.close();
import http, { type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";

interface LiteFSProxyStandinState {
  isPrimary(): boolean;
  /** The primary's lease hostname; null or "" when none is known. */
  primaryHostname(): string | null;
  /** This node's current TXID of the proxied database. */
  txid(): bigint;
  /** `.lag` in ms (default 0). */
  lagMs?(): number;
}

export interface LiteFSProxyStandinOptions {
  /** The app's address (LiteFS's `proxy.target`), e.g. http://127.0.0.1:8090. */
  readonly target: string;
  readonly state: LiteFSProxyStandinState;
  /** How long a read with an unreached __txid waits (LiteFS: 5000 ms). */
  readonly proxyTimeoutMs?: number;
  /** LiteFS's `proxy.max-lag` in ms; null = no lag check. */
  readonly maxLagMs?: number | null;
}

export interface LiteFSProxyStandin {
  readonly url: string;
  readonly port: number;
  /** Every request received, in order. */
  readonly requests: ReadonlyArray<{
    method: string;
    path: string;
    answered: "proxied" | "fly-replay" | "timeout" | "health" | "no-primary";
  }>;
  close(): Promise<void>;
}

const HOP_BY_HOP = new Set([
  "connection",
  "keep-alive",
  "proxy-connection",
  "te",
  "trailer",
  "transfer-encoding",
  "upgrade",
]);

function txidCookie(txid: bigint): string {
  const expires = new Date(Date.now() + 5 * 60_000).toUTCString();
  return `__txid=${txid.toString(16).padStart(16, "0")}; Path=/; Expires=${expires}; HttpOnly`;
}

function cookieTxid(cookie: string | undefined): bigint | null {
  if (!cookie) return null;
  for (const part of cookie.split(";")) {
    const [name, value] = part.split("=", 2).map((s) => s.trim());
    if (name === "__txid" && value && /^[0-9a-fA-F]{1,16}$/.test(value)) return BigInt(`0x${value}`);
  }
  return null;
}

export async function startLiteFSProxyStandin(options: LiteFSProxyStandinOptions): Promise<LiteFSProxyStandin> {
  const { state } = options;
  const timeoutMs = options.proxyTimeoutMs ?? 5000;
  const requests: {
    method: string;
    path: string;
    answered: "proxied" | "fly-replay" | "timeout" | "health" | "no-primary";
  }[] = [];
  const sockets = new Set<Socket>();
  const agent = new http.Agent({ keepAlive: false });

  function proxy(req: IncomingMessage, res: ServerResponse, body: Buffer, isWrite: boolean): void {
    const headers: http.OutgoingHttpHeaders = {};
    for (const [k, v] of Object.entries(req.headers)) if (v !== undefined && !HOP_BY_HOP.has(k)) headers[k] = v;
    headers["content-length"] = String(body.length);
    const out = http.request(
      new URL(req.url ?? "/", options.target),
      { method: req.method, headers, agent },
      (upstream) => {
        const responseHeaders: http.OutgoingHttpHeaders = {};
        for (const [k, v] of Object.entries(upstream.headers))
          if (v !== undefined && !HOP_BY_HOP.has(k)) responseHeaders[k] = v;
        if (isWrite) {
          const prior = upstream.headers["set-cookie"] ?? [];
          responseHeaders["set-cookie"] = [...prior, txidCookie(state.txid())];
        }
        res.writeHead(upstream.statusCode ?? 502, responseHeaders);
        upstream.pipe(res);
      },
    );
    out.on("error", () => {
      if (!res.headersSent) res.writeHead(502).end("Bad Gateway\n");
      else res.destroy();
    });
    out.end(body);
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const method = req.method ?? "GET";
    const path = req.url ?? "/";
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks);

    if (method === "GET" && path.split("?")[0] === "/litefs/health") {
      requests.push({ method, path, answered: "health" });
      const lag = state.lagMs?.() ?? 0;
      const ok = options.maxLagMs == null || state.isPrimary() || lag <= options.maxLagMs;
      res.writeHead(ok ? 200 : 503, { "content-type": "text/plain" }).end(ok ? "OK\n" : "Service Unavailable\n");
      return;
    }

    const isWrite = method !== "GET" && method !== "HEAD";
    if (isWrite) {
      if (state.isPrimary()) {
        requests.push({ method, path, answered: "proxied" });
        proxy(req, res, body, true);
        return;
      }
      const primary = state.primaryHostname();
      if (!primary) {
        requests.push({ method, path, answered: "no-primary" });
        res
          .writeHead(503, { "content-type": "text/plain" })
          .end("stand-in: no primary known (not recorded in the contract)\n");
        return;
      }
      requests.push({ method, path, answered: "fly-replay" });
      res.writeHead(200, { "fly-replay": `instance=${primary}`, "content-length": "0" }).end();
      return;
    }

    const wanted = cookieTxid(req.headers.cookie);
    if (wanted !== null && !state.isPrimary()) {
      const started = Date.now();
      while (state.txid() < wanted) {
        if (Date.now() - started >= timeoutMs) {
          requests.push({ method, path, answered: "timeout" });
          res.writeHead(504, { "content-type": "text/plain" }).end("Proxy timeout\n");
          return;
        }
        await new Promise((r) => setTimeout(r, 5));
        if (res.destroyed) return;
      }
    }
    requests.push({ method, path, answered: "proxied" });
    proxy(req, res, body, false);
  }

  const server = http.createServer((req, res) => {
    handle(req, res).catch(() => res.destroy());
  });
  server.on("connection", (socket: Socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    requests,
    async close() {
      for (const socket of sockets) socket.destroy();
      agent.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
