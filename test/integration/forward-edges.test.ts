// The forwarding proxy's edges over real HTTP on 127.0.0.1, with node views set by the test:
// loop protection, Fly-Replay answers from the LiteFS proxy stand-in, writes never applied twice,
// chunked bodies over the limit, streaming responses, WebSocket upgrades, split brain.
import { createHash } from "node:crypto";
import http, { type IncomingMessage } from "node:http";
import { connect } from "node:net";
import type { Duplex } from "node:stream";
import { afterEach, describe, expect, it } from "vitest";
import { forwardFixtures, metricValue, request, sleep, ViewNode, type Route } from "../support/forward-fixtures.js";
import { startLiteFSProxyStandin } from "../support/litefs-proxy-standin.js";

const { cleanups, startApp, startProxy } = forwardFixtures();
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

describe("loop protection", () => {
  it("two replicas each naming the other as primary: one hop, then 508; no app sees the write", async () => {
    const appX = await startApp("x");
    const appY = await startApp("y");
    // Y would send the write back to X; the loop header makes it stop at Y instead.
    const nodeX = new ViewNode("replica", "node-y");
    const nodeY = new ViewNode("replica", "node-x");
    const y = await startProxy(nodeY, { upstream: appY.url, hosts: { "node-x": "http://127.0.0.1:9" } }, "node-y");
    const x = await startProxy(nodeX, { upstream: appX.url, hosts: { "node-y": y.url } }, "node-x");

    const res = await request(`${x.url}/items`, { method: "POST", body: "once" });
    expect(res.status).toBe(508);
    expect(await res.text()).toMatch(/already forwarded once \(litefs-node-forwarded: node-x\)/);
    expect(appX.writes() + appY.writes()).toBe(0);
    expect(await metricValue(y.metrics, 'litefs_node_forwarded_requests_total{outcome="loop"}')).toBe(1);
    expect(await metricValue(x.metrics, 'litefs_node_forwarded_requests_total{outcome="forwarded"}')).toBe(1);
  });

  it("a write arriving with the loop header at a replica is not forwarded again", async () => {
    const app = await startApp("b");
    const p = await startProxy(new ViewNode("replica", "node-a"), { upstream: app.url, hosts: { "node-a": app.url } });
    const res = await request(`${p.url}/items`, {
      method: "PATCH",
      body: "x",
      headers: { "litefs-node-forwarded": "node-c" },
    });
    expect(res.status).toBe(508);
    expect(app.hits.length).toBe(0);
  });
});

describe("Fly-Replay from LiteFS's proxy", () => {
  it("a write LiteFS's replica proxy answered with Fly-Replay is replayed once to that instance", async () => {
    const appA = await startApp("a");
    const appB = await startApp("b");
    // Our view of node-b is stale (it still thinks it is primary); LiteFS's proxy knows better.
    const standin = await startLiteFSProxyStandin({
      target: appB.url,
      state: { isPrimary: () => false, primaryHostname: () => "node-a", txid: () => 4n },
    });
    cleanups.push(() => standin.close());
    const p = await startProxy(new ViewNode("primary", "node-b"), {
      upstream: standin.url,
      hosts: { "node-a": appA.url },
    });

    const body = JSON.stringify({ n: 1 });
    const res = await request(`${p.url}/items`, {
      method: "POST",
      body,
      headers: { "content-type": "application/json", "x-trace": "t1" },
    });
    expect(res.status).toBe(201);
    expect(res.headers.get("x-app")).toBe("a");
    expect(((await res.json()) as { sha256: string }).sha256).toBe(createHash("sha256").update(body).digest("hex"));
    expect(standin.requests.map((r) => r.answered)).toEqual(["fly-replay"]);
    expect(appB.hits.length).toBe(0);
    expect(appA.writes()).toBe(1);
    expect(appA.hits[0]?.headers["x-trace"]).toBe("t1");
    expect(appA.hits[0]?.headers["litefs-node-forwarded"]).toBe("node-b");
    expect(await metricValue(p.metrics, 'litefs_node_forwarded_requests_total{outcome="replayed"}')).toBe(1);
  });

  it("Fly-Replay on an already forwarded request stops with 508", async () => {
    const appB = await startApp("b");
    const standin = await startLiteFSProxyStandin({
      target: appB.url,
      state: { isPrimary: () => false, primaryHostname: () => "node-a", txid: () => 4n },
    });
    cleanups.push(() => standin.close());
    const p = await startProxy(new ViewNode("primary", "node-b"), {
      upstream: standin.url,
      hosts: { "node-a": "http://127.0.0.1:9" },
    });
    const res = await request(`${p.url}/items`, {
      method: "POST",
      body: "x",
      headers: { "litefs-node-forwarded": "node-c" },
    });
    expect(res.status).toBe(508);
    expect(appB.hits.length).toBe(0);
  });

  it("a write through LiteFS's primary proxy keeps its __txid cookie and gains the LiteFS-TXID header", async () => {
    const appA = await startApp("a");
    const standin = await startLiteFSProxyStandin({
      target: appA.url,
      state: { isPrimary: () => true, primaryHostname: () => "node-a", txid: () => 0x2an },
    });
    cleanups.push(() => standin.close());
    const p = await startProxy(new ViewNode("primary", "node-a"), { upstream: standin.url });
    const res = await request(`${p.url}/items`, { method: "POST", body: "x" });
    expect(res.status).toBe(201);
    const cookies = res.headers.getSetCookie();
    expect(cookies).toHaveLength(1);
    expect(cookies[0]).toMatch(/^__txid=000000000000002a; Path=\/; Expires=.+; HttpOnly$/);
    expect(res.headers.get("litefs-txid")).toBe("000000000000002a");
  });

  it("the stand-in itself answers as the contract records: Fly-Replay, 504 Proxy timeout, /litefs/health", async () => {
    const app = await startApp("b");
    let txid = 4n;
    const standin = await startLiteFSProxyStandin({
      target: app.url,
      proxyTimeoutMs: 200,
      state: { isPrimary: () => false, primaryHostname: () => "node-a", txid: () => txid },
    });
    cleanups.push(() => standin.close());
    const write = await request(`${standin.url}/x`, { method: "POST", body: "x" });
    expect(write.status).toBe(200);
    expect(write.headers.get("fly-replay")).toBe("instance=node-a");
    expect(await write.text()).toBe("");
    const late = await request(`${standin.url}/x`, { headers: { cookie: "__txid=0000000000000005" } });
    expect(late.status).toBe(504);
    expect(await late.text()).toBe("Proxy timeout\n");
    setTimeout(() => (txid = 5n), 50);
    expect((await request(`${standin.url}/x`, { headers: { cookie: "__txid=0000000000000005" } })).status).toBe(200);
    expect((await request(`${standin.url}/litefs/health`)).status).toBe(200);
    expect(app.writes()).toBe(0);
  });
});

describe("a write is never applied twice", () => {
  it("the primary breaks off after taking the write: 502, and it was applied exactly once", async () => {
    const primary = await startApp("a", {
      "/break": (_req, res) => res.socket?.destroy(),
    });
    const p = await startProxy(new ViewNode("replica", "node-a"), {
      upstream: "http://127.0.0.1:9",
      hosts: { "node-a": primary.url },
    });
    const res = await request(`${p.url}/break`, { method: "POST", body: "charge-card" });
    expect(res.status).toBe(502);
    expect(await res.text()).toMatch(/node-a/);
    await sleep(200); // room for any (wrong) retry to land
    expect(primary.writes()).toBe(1);
    expect(await metricValue(p.metrics, 'litefs_node_forwarded_requests_total{outcome="primary-unreachable"}')).toBe(1);
  });

  it("30 concurrent forwarded writes: each applied exactly once", async () => {
    const primary = await startApp("a");
    const p = await startProxy(new ViewNode("replica", "node-a"), {
      upstream: "http://127.0.0.1:9",
      hosts: { "node-a": primary.url },
    });
    const results = await Promise.all(
      Array.from({ length: 30 }, (_, i) => request(`${p.url}/items/${i}`, { method: "POST", body: `w${i}` })),
    );
    expect(results.map((r) => r.status)).toEqual(Array(30).fill(201));
    const bodies = primary.hits.map((h) => h.body.toString()).sort();
    expect(bodies).toEqual(Array.from({ length: 30 }, (_, i) => `w${i}`).sort());
  });
});

describe("upstream connections", () => {
  it("are kept alive and reused: sequential reads and forwarded writes ride one connection per app", async () => {
    const local = await startApp("b");
    const primary = await startApp("a");
    const connections = { local: 0, primary: 0 };
    local.server.on("connection", () => connections.local++);
    primary.server.on("connection", () => connections.primary++);
    const p = await startProxy(new ViewNode("replica", "node-a"), {
      upstream: local.url,
      hosts: { "node-a": primary.url },
    });
    for (let i = 0; i < 20; i++) {
      expect((await request(`${p.url}/r${i}`)).status).toBe(200);
      expect((await request(`${p.url}/w${i}`, { method: "POST", body: `x${i}` })).status).toBe(201);
    }
    expect(local.hits).toHaveLength(20);
    expect(primary.hits).toHaveLength(20);
    expect(connections).toEqual({ local: 1, primary: 1 });
  });

  it("a request that came without a Host header (HTTP/1.0) reaches the app with the app's host", async () => {
    const local = await startApp("b");
    const p = await startProxy(new ViewNode("primary", "node-b"), { upstream: local.url });
    const { port } = new URL(p.url);
    const answer = await new Promise<string>((resolve, reject) => {
      const socket = connect(Number(port), "127.0.0.1", () => socket.write("GET /no-host HTTP/1.0\r\n\r\n"));
      let text = "";
      socket.setTimeout(5000, () => socket.destroy(new Error("no answer")));
      socket.on("data", (chunk: Buffer) => (text += chunk.toString()));
      socket.on("end", () => resolve(text));
      socket.on("error", reject);
    });
    expect(answer).toMatch(/^HTTP\/1\.1 200/);
    expect(local.hits[0]?.headers.host).toBe(new URL(local.url).host);
  });
});

describe("request bodies and method rules", () => {
  it("a chunked body over the limit gets 413 and nothing is forwarded", async () => {
    const primary = await startApp("a");
    const p = await startProxy(new ViewNode("replica", "node-a"), {
      upstream: "http://127.0.0.1:9",
      hosts: { "node-a": primary.url },
      bodyLimit: 2048,
    });
    const { status, body } = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = http.request(
        `${p.url}/upload`,
        { method: "POST", headers: { "transfer-encoding": "chunked" } },
        (res) => {
          let text = "";
          res.setEncoding("utf8");
          res.on("data", (c: string) => (text += c));
          res.on("end", () => resolve({ status: res.statusCode ?? 0, body: text }));
        },
      );
      req.on("error", reject);
      req.setTimeout(5000, () => req.destroy(new Error("timeout")));
      for (let i = 0; i < 8; i++) req.write(Buffer.alloc(512, i));
      req.end();
    });
    expect(status).toBe(413);
    expect(body).toMatch(/2048-byte limit/);
    expect(primary.hits.length).toBe(0);
  });

  it("GET/HEAD/OPTIONS stay local on a replica; always-forward paths go to the primary", async () => {
    const primary = await startApp("a");
    const local = await startApp("b");
    const p = await startProxy(new ViewNode("replica", "node-a"), {
      upstream: local.url,
      hosts: { "node-a": primary.url },
      alwaysForward: ["/jobs"],
    });
    expect((await request(`${p.url}/items`)).headers.get("x-app")).toBe("b");
    expect((await request(`${p.url}/items`, { method: "HEAD" })).headers.get("x-app")).toBe("b");
    expect((await request(`${p.url}/items`, { method: "OPTIONS" })).headers.get("x-app")).toBe("b");
    expect((await request(`${p.url}/jobs/run?now=1`)).headers.get("x-app")).toBe("a");
    expect((await request(`${p.url}/jobsite`)).headers.get("x-app")).toBe("b");
    expect(primary.hits.map((h) => h.path)).toEqual(["/jobs/run?now=1"]);
  });

  it("split brain: writes 503 with Retry-After, reads still served", async () => {
    const local = await startApp("b");
    const p = await startProxy(new ViewNode("primary", "node-b", true), { upstream: local.url });
    const res = await request(`${p.url}/items`, { method: "POST", body: "x" });
    expect(res.status).toBe(503);
    expect(res.headers.get("retry-after")).toBe("1");
    expect(await res.text()).toMatch(/split brain/);
    expect((await request(`${p.url}/items`)).status).toBe(200);
    expect(local.writes()).toBe(0);
    expect((await request(`${p.url}/litefs-node/health`)).status).toBe(503);
  });

  it("a primary with no forwarding address: 502 naming the settings", async () => {
    const p = await startProxy(new ViewNode("replica", "node-z"), {
      upstream: "http://127.0.0.1:9",
      target: null,
      hosts: { "node-a": "http://127.0.0.1:9" },
    });
    const res = await request(`${p.url}/items`, { method: "POST", body: "x" });
    expect(res.status).toBe(502);
    expect(await res.text()).toMatch(/"node-z".*LITEFS_FORWARD_TARGET.*LITEFS_FORWARD_HOSTS/);
  });

  it("the local app down: 502", async () => {
    const p = await startProxy(new ViewNode("primary", "node-a"), { upstream: "http://127.0.0.1:9" });
    const res = await request(`${p.url}/items`);
    expect(res.status).toBe(502);
    expect(await res.text()).toMatch(/app at http:\/\/127\.0\.0\.1:9 is unreachable/);
  });
});

describe("streams and upgrades pass through", () => {
  function streamingRoute(release: Promise<void>): Route {
    return (_req, res) => {
      res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" });
      res.write("data: one\n\n");
      void release.then(() => res.end("data: two\n\n"));
    };
  }

  async function readFirstChunkThenRest(
    url: string,
    method: string,
    release: () => void,
  ): Promise<{ first: string; rest: string; status: number }> {
    return new Promise((resolve, reject) => {
      const req = http.request(url, { method }, (res) => {
        let first: string | null = null;
        let rest = "";
        res.setEncoding("utf8");
        res.on("data", (chunk: string) => {
          if (first === null) {
            first = chunk;
            release(); // only now does the app write the second event
          } else rest += chunk;
        });
        res.on("end", () => resolve({ first: first ?? "", rest, status: res.statusCode ?? 0 }));
      });
      req.on("error", reject);
      req.setTimeout(5000, () => req.destroy(new Error("stream timed out")));
      req.end(method === "POST" ? "go" : undefined);
    });
  }

  it("a streaming read answer reaches the client before the app has finished it", async () => {
    let release!: () => void;
    const released = new Promise<void>((r) => (release = r));
    const local = await startApp("b", { "/events": streamingRoute(released) });
    const p = await startProxy(new ViewNode("replica", "node-a"), { upstream: local.url });
    const got = await readFirstChunkThenRest(`${p.url}/events`, "GET", release);
    expect(got.status).toBe(200);
    expect(got.first).toBe("data: one\n\n");
    expect(got.rest).toBe("data: two\n\n");
  });

  it("a forwarded write's streaming answer streams too", async () => {
    let release!: () => void;
    const released = new Promise<void>((r) => (release = r));
    const primary = await startApp("a", { "/export": streamingRoute(released) });
    const p = await startProxy(new ViewNode("replica", "node-a"), {
      upstream: "http://127.0.0.1:9",
      hosts: { "node-a": primary.url },
    });
    const got = await readFirstChunkThenRest(`${p.url}/export`, "POST", release);
    expect(got.first).toBe("data: one\n\n");
    expect(got.rest).toBe("data: two\n\n");
  });

  it("a WebSocket upgrade is relayed and bytes flow both ways", async () => {
    const local = await startApp("b");
    local.server.on("upgrade", (req: IncomingMessage, socket: Duplex) => {
      const key = String(req.headers["sec-websocket-key"]);
      const accept = createHash("sha1").update(`${key}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest("base64");
      socket.write(
        `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\nX-Path: ${req.url}\r\n\r\n`,
      );
      socket.write("hello from app");
      socket.on("data", (d: Buffer) => socket.write(`echo:${d.toString()}`));
    });
    const p = await startProxy(new ViewNode("replica", "node-a"), { upstream: local.url });
    const key = Buffer.from("0123456789abcdef").toString("base64");
    const result = await new Promise<{
      status: number;
      accept: string | undefined;
      path: string | undefined;
      received: string;
    }>((resolve, reject) => {
      const req = http.request(`${p.url}/ws?room=1`, {
        headers: {
          connection: "Upgrade",
          upgrade: "websocket",
          "sec-websocket-key": key,
          "sec-websocket-version": "13",
        },
      });
      req.setTimeout(5000, () => req.destroy(new Error("upgrade timed out")));
      req.on("error", reject);
      req.on("upgrade", (res, socket, head) => {
        let received = head.toString();
        const check = (): void => {
          if (received.includes("echo:ping")) {
            socket.destroy();
            resolve({
              status: res.statusCode ?? 0,
              accept: res.headers["sec-websocket-accept"],
              path: res.headers["x-path"] as string | undefined,
              received,
            });
          }
        };
        socket.on("data", (d: Buffer) => {
          received += d.toString();
          check();
        });
        socket.write("ping");
        check();
      });
      req.end();
    });
    expect(result.status).toBe(101);
    expect(result.accept).toBe(
      createHash("sha1").update(`${key}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest("base64"),
    );
    expect(result.path).toBe("/ws?room=1");
    expect(result.received).toBe("hello from appecho:ping");
  });

  it("close() does not hang on an open stream", async () => {
    const never = new Promise<void>(() => {});
    const local = await startApp("b", { "/events": streamingRoute(never) });
    const p = await startProxy(new ViewNode("replica", "node-a"), { upstream: local.url });
    const req = http.get(`${p.url}/events`);
    req.on("error", () => {});
    await new Promise<void>((r) => req.on("response", () => r()));
    const started = Date.now();
    await p.close();
    expect(Date.now() - started).toBeLessThan(3000);
  });
});

describe("read-your-writes with a node pushed by tx events", () => {
  it("waits for the event, times out to 504 or forwards, and ignores garbage TXIDs", async () => {
    const primary = await startApp("a");
    const local = await startApp("b");
    const node = new ViewNode("replica", "node-a");
    const p = await startProxy(node, { upstream: local.url, hosts: { "node-a": primary.url }, rywTimeout: 300 });
    // Past 2^53: a double-based comparison would call 0x20000000000000 "caught up" with ...01.
    node.position = 0x20000000000000n;
    const late = await request(`${p.url}/r`, { headers: { "litefs-txid": "0020000000000001" } });
    expect(late.status).toBe(504);
    setTimeout(() => node.apply(0x20000000000001n), 100);
    const caught = await request(`${p.url}/r`, { headers: { "litefs-txid": "0020000000000001" } });
    expect(caught.status).toBe(200);
    expect(caught.headers.get("x-app")).toBe("b");
    expect((await request(`${p.url}/r`, { headers: { "litefs-txid": "not-a-txid" } })).status).toBe(200);
    const fwd = await startProxy(node, {
      upstream: local.url,
      hosts: { "node-a": primary.url },
      rywTimeout: 100,
      rywTimeoutMode: "forward",
    });
    const forwarded = await request(`${fwd.url}/r`, { headers: { cookie: "__txid=0030000000000000" } });
    expect(forwarded.headers.get("x-app")).toBe("a");
    expect(await metricValue(fwd.metrics, 'litefs_node_forwarded_requests_total{outcome="ryw-forwarded"}')).toBe(1);
  });
});
