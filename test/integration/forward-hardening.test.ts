// Issue 15 over real HTTP on 127.0.0.1: a {host} taken from Fly-Replay or the primary's name
// cannot redirect a request elsewhere; client-sent X-Forwarded-* are overwritten unless the
// peer is a trusted proxy; the global budgets answer 503 + Retry-After; read bodies stream.
import http, { type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { type Duplex, Writable } from "node:stream";
import { pino } from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { forwardFixtures, metricValue, request, sleep, ViewNode, type Route } from "../support/forward-fixtures.js";

const { cleanups, startApp, startProxy } = forwardFixtures();
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A pino logger whose lines land in `lines` (parsed). */
function capturedLogger(): { logger: pino.Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString().split("\n"))
        if (line.trim() !== "") lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  return { logger: pino({ level: "info" }, sink), lines };
}

/** A server on its own port that must never be reached. */
async function startVictim(): Promise<{ port: number; hits: string[] }> {
  const hits: string[] = [];
  const server = http.createServer((req, res) => {
    hits.push(`${req.method} ${req.url} cookie=${String(req.headers.cookie)}`);
    res.end("stolen");
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  cleanups.push(
    () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  );
  return { port: (server.address() as AddressInfo).port, hits };
}

const flyReplayRoute =
  (instance: string): Route =>
  (_req, res) => {
    res.writeHead(200, { "fly-replay": `instance=${instance}`, "content-length": "0" }).end();
  };

describe("{host} must be a node name", () => {
  it("Fly-Replay: instance=127.0.0.1:<port>/stolen? is refused with 502 and a log line; nothing reaches that port", async () => {
    const victim = await startVictim();
    const forged = `127.0.0.1:${victim.port}/stolen?`;
    const local = await startApp("b", { "/items": flyReplayRoute(forged) });
    const { logger, lines } = capturedLogger();
    // Template mode: before the fix, {host} became "127.0.0.1:<port>/stolen?" and the URL pointed at the victim.
    const p = await startProxy(
      new ViewNode("primary", "node-b"),
      { upstream: local.url, target: "http://{host}:8080" },
      "node-b",
      logger,
    );
    const res = await request(`${p.url}/items`, {
      method: "POST",
      body: "secret",
      headers: { cookie: "session=s3cret", authorization: "Bearer t0ken" },
    });
    expect(res.status).toBe(502);
    expect(await res.text()).toMatch(/not a node name/);
    await sleep(100);
    expect(victim.hits).toEqual([]);
    expect(lines.some((l) => l.host === forged && /not forwarding/.test(String(l.msg)))).toBe(true);
    expect(await metricValue(p.metrics, 'litefs_node_forwarded_requests_total{outcome="bad-host"}')).toBe(1);
  });

  it("a primary hostname that is not a node name is refused the same way", async () => {
    const victim = await startVictim();
    const { logger, lines } = capturedLogger();
    const p = await startProxy(
      new ViewNode("replica", `127.0.0.1:${victim.port}/stolen?`),
      { upstream: "http://127.0.0.1:9", target: "http://{host}:8080" },
      "node-b",
      logger,
    );
    const res = await request(`${p.url}/items`, { method: "POST", body: "x", headers: { cookie: "session=s3cret" } });
    expect(res.status).toBe(502);
    await sleep(100);
    expect(victim.hits).toEqual([]);
    expect(lines.filter((l) => /not forwarding/.test(String(l.msg)))).toHaveLength(1);
  });

  it("with a host map, an instance outside it is refused even though the template could build a URL", async () => {
    const local = await startApp("b", { "/items": flyReplayRoute("node-c") });
    const known = await startApp("a");
    const { logger, lines } = capturedLogger();
    const p = await startProxy(
      new ViewNode("primary", "node-b"),
      { upstream: local.url, hosts: { "node-a": known.url }, target: "http://{host}:8080" },
      "node-b",
      logger,
    );
    const res = await request(`${p.url}/items`, { method: "POST", body: "x" });
    expect(res.status).toBe(502);
    expect(await res.text()).toMatch(/"node-c".*LITEFS_FORWARD_HOSTS/);
    expect(known.hits).toEqual([]);
    expect(lines.some((l) => l.host === "node-c")).toBe(true);
  });
});

describe("X-Forwarded-* from clients", () => {
  const spoofed = {
    "x-forwarded-host": "evil.example",
    "x-forwarded-proto": "https",
    "x-forwarded-for": "6.6.6.6",
    forwarded: "for=6.6.6.6",
  };

  it("are overwritten on reads and forwarded writes when the peer is not a trusted proxy", async () => {
    const local = await startApp("b");
    const primary = await startApp("a");
    const p = await startProxy(new ViewNode("replica", "node-a"), {
      upstream: local.url,
      hosts: { "node-a": primary.url },
      trustedProxies: "10.0.0.0/8",
    });
    const host = new URL(p.url).host;
    await request(`${p.url}/r`, { headers: spoofed });
    await request(`${p.url}/w`, { method: "POST", body: "x", headers: spoofed });
    for (const hit of [local.hits[0], primary.hits[0]]) {
      expect(hit?.headers["x-forwarded-host"]).toBe(host);
      expect(hit?.headers["x-forwarded-proto"]).toBe("http");
      expect(hit?.headers["x-forwarded-for"]).toBe("127.0.0.1");
      expect(hit?.headers["forwarded"]).toBeUndefined();
    }
  });

  it("are overwritten on a WebSocket upgrade too", async () => {
    const local = await startApp("b");
    const seen = new Promise<http.IncomingHttpHeaders>((resolve) => {
      local.server.on("upgrade", (req: IncomingMessage, socket: Duplex) => {
        resolve(req.headers);
        socket.end("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n");
      });
    });
    const p = await startProxy(new ViewNode("replica", "node-a"), { upstream: local.url });
    const req = http.request(`${p.url}/ws`, { headers: { ...spoofed, connection: "Upgrade", upgrade: "websocket" } });
    req.on("upgrade", (_res, socket) => socket.destroy());
    req.on("error", () => {});
    req.end();
    const headers = await seen;
    expect(headers["x-forwarded-host"]).toBe(new URL(p.url).host);
    expect(headers["x-forwarded-for"]).toBe("127.0.0.1");
    expect(headers["x-forwarded-proto"]).toBe("http");
    expect(headers["forwarded"]).toBeUndefined();
  });

  it("are kept (and the chain extended) when the peer is a trusted proxy", async () => {
    const local = await startApp("b");
    const p = await startProxy(new ViewNode("replica", "node-a"), {
      upstream: local.url,
      trustedProxies: ["127.0.0.1"],
    });
    await request(`${p.url}/r`, { headers: spoofed });
    expect(local.hits[0]?.headers["x-forwarded-host"]).toBe("evil.example");
    expect(local.hits[0]?.headers["x-forwarded-proto"]).toBe("https");
    expect(local.hits[0]?.headers["x-forwarded-for"]).toBe("6.6.6.6, 127.0.0.1");
  });
});

describe("global budgets: 503 + Retry-After, never unbounded", () => {
  /** A route that holds its answer until release() (the app is slow). */
  function heldRoute(): { route: Route; release: () => void; arrived: () => number } {
    const waiting: ServerResponse[] = [];
    let count = 0;
    return {
      route: (_req: IncomingMessage, res: ServerResponse) => {
        count++;
        waiting.push(res);
      },
      release: () => {
        for (const res of waiting.splice(0)) res.writeHead(200).end("late");
      },
      arrived: () => count,
    };
  }

  async function until(check: () => boolean, what: string): Promise<void> {
    const started = Date.now();
    while (!check()) {
      if (Date.now() - started > 5000) throw new Error(`timed out waiting for ${what}`);
      await sleep(10);
    }
  }

  it("concurrent requests over LITEFS_FORWARD_MAX_REQUESTS get 503; health is still answered", async () => {
    const held = heldRoute();
    const local = await startApp("b", { "/slow": held.route });
    const p = await startProxy(new ViewNode("primary", "node-b"), { upstream: local.url, maxRequests: 2 });
    const first = [request(`${p.url}/slow`), request(`${p.url}/slow`)];
    await until(() => held.arrived() === 2, "two held requests");
    const third = await request(`${p.url}/slow`);
    expect(third.status).toBe(503);
    expect(third.headers.get("retry-after")).toBe("1");
    expect(await third.text()).toMatch(/concurrent requests: limit 2, LITEFS_FORWARD_MAX_REQUESTS/);
    expect((await request(`${p.url}/litefs-node/health`)).status).toBe(200);
    held.release();
    expect((await Promise.all(first)).map((r) => r.status)).toEqual([200, 200]);
    const after = request(`${p.url}/slow`);
    await until(() => held.arrived() === 3, "a request after the others finished");
    held.release();
    expect((await after).status).toBe(200);
    expect(await metricValue(p.metrics, 'litefs_node_forwarded_requests_total{outcome="over-capacity"}')).toBe(1);
  });

  it("reads waiting for a TXID over LITEFS_FORWARD_MAX_TXID_WAITS get 503 at once", async () => {
    const local = await startApp("b");
    const node = new ViewNode("replica", "node-a");
    const p = await startProxy(node, { upstream: local.url, maxTxidWaits: 1, rywTimeout: 3000 });
    const waiting = request(`${p.url}/r`, { headers: { "litefs-txid": "0000000000000005" } });
    await sleep(100);
    const started = Date.now();
    const refused = await request(`${p.url}/r`, { headers: { "litefs-txid": "ffffffffffffffff" } });
    expect(refused.status).toBe(503);
    expect(refused.headers.get("retry-after")).toBe("1");
    expect(await refused.text()).toMatch(/reads waiting for a TXID: limit 1/);
    expect(Date.now() - started).toBeLessThan(1000);
    node.apply(5n);
    expect((await waiting).status).toBe(200);
    expect(local.hits).toHaveLength(1);
  });

  it("buffered write bodies over LITEFS_FORWARD_BODY_BUDGET get 503; the budget is given back afterwards", async () => {
    const held = heldRoute();
    const primary = await startApp("a", { "/slow": held.route });
    const p = await startProxy(new ViewNode("replica", "node-a"), {
      upstream: "http://127.0.0.1:9",
      hosts: { "node-a": primary.url },
      bodyLimit: 1024,
      bodyBudget: 1536,
    });
    const first = request(`${p.url}/slow`, { method: "POST", body: "a".repeat(1000) });
    await until(() => held.arrived() === 1, "the held write");
    const second = await request(`${p.url}/slow`, { method: "POST", body: "b".repeat(1000) });
    expect(second.status).toBe(503);
    expect(second.headers.get("retry-after")).toBe("1");
    expect(await second.text()).toMatch(/buffered request body bytes: limit 1536, LITEFS_FORWARD_BODY_BUDGET/);
    held.release();
    expect((await first).status).toBe(200);
    await sleep(50);
    const third = request(`${p.url}/slow`, { method: "POST", body: "c".repeat(1000) });
    await until(() => held.arrived() === 2, "the write after release");
    held.release();
    expect((await third).status).toBe(200);
    expect(primary.hits.map((h) => h.body.toString()[0])).toEqual(["a", "c"]);
  });

  it("open upgrades (WebSockets) over LITEFS_FORWARD_MAX_UPGRADES get 503; a closed one frees its place", async () => {
    const local = await startApp("b");
    const appSockets: Duplex[] = [];
    local.server.on("upgrade", (_req: IncomingMessage, socket: Duplex) => {
      appSockets.push(socket);
      socket.on("error", () => {});
      // Like a WebSocket server: the client's end of the connection ends ours.
      socket.on("end", () => socket.end());
      socket.write("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n");
    });
    cleanups.push(() => {
      for (const socket of appSockets) socket.destroy();
    });
    const p = await startProxy(new ViewNode("primary", "node-b"), { upstream: local.url, maxUpgrades: 1 });
    /** Resolves with the socket on a 101, or the status and body of a refusal. */
    const upgrade = (): Promise<
      { socket: Duplex } | { status: number; retryAfter: string | undefined; body: string }
    > =>
      new Promise((resolve, reject) => {
        const req = http.request(`${p.url}/ws`, { headers: { connection: "Upgrade", upgrade: "websocket" } });
        req.setTimeout(5000, () => req.destroy(new Error("upgrade timed out")));
        req.on("upgrade", (_res, socket) => resolve({ socket }));
        req.on("response", (res) => {
          let body = "";
          res.on("data", (chunk: Buffer) => (body += chunk.toString()));
          res.on("end", () => resolve({ status: res.statusCode ?? 0, retryAfter: res.headers["retry-after"], body }));
        });
        req.on("error", reject);
        req.end();
      });
    const first = await upgrade();
    expect("socket" in first).toBe(true);
    const second = await upgrade();
    expect(second).toMatchObject({ status: 503, retryAfter: "1" });
    expect("body" in second ? second.body : "").toMatch(
      /open upgraded connections \(WebSockets\): limit 1, LITEFS_FORWARD_MAX_UPGRADES/,
    );
    // Ordinary requests are not held back by the upgrade cap.
    expect((await request(`${p.url}/r`)).status).toBe(200);
    if ("socket" in first) first.socket.destroy();
    let third = await upgrade();
    for (let tries = 0; !("socket" in third) && tries < 50; tries++) {
      await sleep(20);
      third = await upgrade();
    }
    expect("socket" in third).toBe(true);
    if ("socket" in third) third.socket.destroy();
    expect(
      await metricValue(p.metrics, 'litefs_node_forwarded_requests_total{outcome="over-capacity"}'),
    ).toBeGreaterThanOrEqual(1);
  });

  it("a read's body is streamed to the app, not buffered: the buffering limit does not apply to it", async () => {
    const local = await startApp("b");
    const p = await startProxy(new ViewNode("replica", "node-a"), {
      upstream: local.url,
      bodyLimit: 1024,
      bodyBudget: 1024,
    });
    const body = Buffer.alloc(256 * 1024, 7);
    const res = await new Promise<number>((resolve, reject) => {
      const req = http.request(
        `${p.url}/search`,
        { method: "GET", headers: { "content-length": String(body.length) } },
        (r) => {
          r.resume();
          resolve(r.statusCode ?? 0);
        },
      );
      req.on("error", reject);
      req.end(body);
    });
    expect(res).toBe(200);
    expect(local.hits[0]?.body.equals(body)).toBe(true);
  });
});
