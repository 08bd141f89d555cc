// Two "LiteFS nodes" on 127.0.0.1 (temp mount dirs + replayed /events streams), a real
// LiteFSNode on each, an app server on each, and the forwarding proxy in front of each app.
// node-a is the primary; "replication" to node-b is a tx event the test sends when it wants.
import { createHash, randomBytes } from "node:crypto";
import http, { type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { loadSettings } from "../../src/config/index.js";
import { createNode, type LiteFSNode } from "../../src/node/node.js";
import { createForwardingProxy, type ForwardingProxy } from "../../src/forward/proxy.js";
import { positionFileTxid } from "../../src/forward/position.js";
import { loadForwardSettings, type ForwardSettingsInput } from "../../src/forward/settings.js";
import { waitForTxid } from "../../src/forward/wait-for-txid.js";
import { createMetrics, type LiteFSNodeMetrics } from "../../src/health/metrics.js";
import { startEventsServer, type EventsServer } from "../support/events-server.js";
import { createTempMount, type TempMount } from "../support/litefs-mount.js";
import { closedPort } from "../support/migrations/cluster.js";

const DB = "db";
const hex = (txid: bigint): string => txid.toString(16).padStart(16, "0");
const txEvent = (txid: bigint): object => ({
  type: "tx",
  db: DB,
  data: {
    txID: hex(txid),
    postApplyChecksum: "a2fc350afcb62d33",
    pageSize: 4096,
    commit: 2,
    timestamp: new Date().toISOString(),
  },
});

interface Write {
  method: string;
  path: string;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

interface App {
  readonly name: string;
  readonly url: string;
  readonly writes: Write[];
  /** Writes that reached this app while its node was a replica (must stay empty). */
  readonly refused: Write[];
  close(): Promise<void>;
}

interface Side {
  mount: TempMount;
  events: EventsServer;
  node: LiteFSNode;
  app: App;
  proxy: ForwardingProxy;
  proxyUrl: string;
  metrics: LiteFSNodeMetrics;
}

let primaryTxid = 4n;
const cleanups: (() => Promise<void> | void)[] = [];
let a: Side;
let b: Side;

/** The app: writes "commit" on the primary (position + tx event), are refused on a replica like the guarded driver would. */
async function startApp(name: string, isPrimary: () => boolean, commit: () => Promise<bigint>): Promise<App> {
  const writes: Write[] = [];
  const refused: Write[] = [];
  const server = http.createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const body = Buffer.concat(chunks);
      const path = req.url ?? "/";
      if (req.method === "GET" || req.method === "HEAD") {
        res.writeHead(200, { "content-type": "application/json", "x-app": name });
        res.end(JSON.stringify({ node: name, path, writes: writes.length }));
        return;
      }
      const write = { method: req.method ?? "", path, headers: req.headers, body };
      if (!isPrimary()) {
        refused.push(write);
        res.writeHead(500, { "content-type": "text/plain" }).end("not primary");
        return;
      }
      writes.push(write);
      void commit().then((txid) => {
        res.writeHead(201, { "content-type": "application/json", "x-app": name, "set-cookie": "session=abc; Path=/" });
        res.end(
          JSON.stringify({
            node: name,
            bytes: body.length,
            sha256: createHash("sha256").update(body).digest("hex"),
            txid: hex(txid),
          }),
        );
      });
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return {
    name,
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    writes,
    refused,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

async function startSide(
  nodeId: string,
  role: "primary" | "replica",
): Promise<Omit<Side, "proxy" | "proxyUrl" | "metrics">> {
  const mount = createTempMount(role === "primary" ? { role: "primary" } : { role: "replica", primary: "node-a" });
  cleanups.push(() => mount.cleanup());
  const events = await startEventsServer({ fixture: role });
  cleanups.push(() => events.close());
  const settings = loadSettings(
    {
      enabled: true,
      mountPath: mount.path,
      dataPath: `${mount.path}-data`,
      databaseName: DB,
      nodeId,
      primaryHostname: "node-a",
      httpAddr: `127.0.0.1:${events.port}`,
    },
    {},
  );
  const node = await createNode(settings, { readyTimeoutMs: 3000 });
  cleanups.push(() => node.close());
  const app = await startApp(
    nodeId,
    () => node.role === "primary",
    async () => {
      primaryTxid += 1n;
      mount.setPosition(primaryTxid);
      await events.sendEvent(txEvent(primaryTxid));
      return primaryTxid;
    },
  );
  cleanups.push(() => app.close());
  return { mount, events, node, app };
}

async function startProxy(
  side: Omit<Side, "proxy" | "proxyUrl" | "metrics">,
  hosts: Record<string, string>,
  extra: ForwardSettingsInput = {},
): Promise<{ proxy: ForwardingProxy; proxyUrl: string; metrics: LiteFSNodeMetrics }> {
  const metrics = createMetrics();
  metrics.observeNode(side.node, { db: DB });
  const proxy = createForwardingProxy({
    node: side.node,
    settings: loadForwardSettings(
      { listen: "127.0.0.1:0", upstream: side.app.url, hosts, rywTimeout: 3000, ...extra },
      {},
    ),
    db: DB,
    nodeId: side.node.settings.nodeId,
    metrics,
    health: true,
    currentTxid: positionFileTxid(side.mount.path),
  });
  const { url } = await proxy.listen();
  cleanups.push(() => proxy.close());
  return { proxy, proxyUrl: url, metrics };
}

/** node-b's LiteFS applies everything the primary has committed. */
async function replicate(): Promise<void> {
  b.mount.setPosition(primaryTxid);
  await b.events.sendEvent(txEvent(primaryTxid));
}

const request = (url: string, init: RequestInit = {}): Promise<Response> =>
  fetch(url, { ...init, signal: AbortSignal.timeout(8000) });

beforeAll(async () => {
  const sa = await startSide("node-a", "primary");
  const sb = await startSide("node-b", "replica");
  // node-a is primary for the whole file: it never forwards, but the setting is required.
  const pa = await startProxy(sa, {}, { target: "http://{host}.invalid:8080" });
  a = { ...sa, ...pa };
  const pb = await startProxy(sb, { "node-a": a.proxyUrl });
  b = { ...sb, ...pb };
  await a.events.waitForStreams(1);
  await b.events.waitForStreams(1);
  expect(a.node.role).toBe("primary");
  expect(b.node.role).toBe("replica");
  expect(b.node.primary).toBe("node-a");
});

afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

beforeEach(async () => {
  // Every test starts from a caught-up replica.
  await replicate();
  expect(await waitForTxid(b.node, DB, primaryTxid, { timeoutMs: 2000 })).toBe(true);
});

describe("write forwarding between two nodes", () => {
  it("reads on the replica stay local", async () => {
    const res = await request(`${b.proxyUrl}/items?x=1`);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ node: "node-b", path: "/items?x=1" });
  });

  it("a POST on the replica reaches the primary once, body and headers intact, and the answer comes back unchanged", async () => {
    const before = a.app.writes.length;
    const body = JSON.stringify({ title: "hello", emoji: "✓" });
    const res = await request(`${b.proxyUrl}/items?draft=0`, {
      method: "POST",
      body,
      headers: {
        "content-type": "application/json",
        authorization: "Bearer t0k3n",
        "x-request-id": "req-42",
        cookie: "session=xyz",
      },
    });
    expect(res.status).toBe(201);
    expect(res.headers.get("x-app")).toBe("node-a");
    const answer = (await res.json()) as { node: string; sha256: string; txid: string };
    expect(answer.node).toBe("node-a");
    expect(answer.sha256).toBe(createHash("sha256").update(body).digest("hex"));

    expect(a.app.writes.length).toBe(before + 1);
    const write = a.app.writes.at(-1)!;
    expect(write.method).toBe("POST");
    expect(write.path).toBe("/items?draft=0");
    expect(write.body.toString()).toBe(body);
    expect(write.headers["content-type"]).toBe("application/json");
    expect(write.headers.authorization).toBe("Bearer t0k3n");
    expect(write.headers["x-request-id"]).toBe("req-42");
    expect(write.headers.cookie).toBe("session=xyz");
    expect(write.headers["litefs-node-forwarded"]).toBe("node-b");
    expect(write.headers["x-forwarded-for"]).toMatch(/127\.0\.0\.1/);
    expect(b.app.writes.length + b.app.refused.length).toBe(0);

    // Read-your-writes: the primary's TXID comes back as a header and as LiteFS's cookie.
    expect(res.headers.get("litefs-txid")).toBe(answer.txid);
    const cookies = res.headers.getSetCookie();
    expect(cookies).toContain("session=abc; Path=/");
    expect(cookies.some((c) => c.startsWith(`__txid=${answer.txid}; Path=/; Expires=`) && c.endsWith("HttpOnly"))).toBe(
      true,
    );
  });

  it("a 1 MiB binary PUT is forwarded byte for byte", async () => {
    const body = randomBytes(1024 * 1024);
    const res = await request(`${b.proxyUrl}/blobs/1`, {
      method: "PUT",
      body,
      headers: { "content-type": "application/octet-stream" },
    });
    expect(res.status).toBe(201);
    const answer = (await res.json()) as { bytes: number; sha256: string };
    expect(answer.bytes).toBe(body.length);
    expect(answer.sha256).toBe(createHash("sha256").update(body).digest("hex"));
  });

  it("a write on the primary goes to its own app and carries the TXID", async () => {
    const before = a.app.writes.length;
    const res = await request(`${a.proxyUrl}/items`, { method: "DELETE" });
    expect(res.status).toBe(201);
    expect(a.app.writes.length).toBe(before + 1);
    expect(res.headers.get("litefs-txid")).toBe(hex(primaryTxid));
  });

  it("no primary known: 503 with Retry-After, nothing written anywhere; forwarding resumes when it is back", async () => {
    const before = a.app.writes.length;
    await b.events.sendEvent({ type: "primaryChange", data: { isPrimary: false } });
    await waitFor(() => b.node.primary === null);
    const res = await request(`${b.proxyUrl}/items`, { method: "POST", body: "x" });
    expect(res.status).toBe(503);
    expect(res.headers.get("retry-after")).toBe("1");
    expect(await res.text()).toMatch(/no primary/);
    const health = await request(`${b.proxyUrl}/litefs-node/health`);
    expect(health.status).toBe(503);
    expect(a.app.writes.length).toBe(before);

    await b.events.sendEvent({ type: "primaryChange", data: { isPrimary: false, hostname: "node-a" } });
    await waitFor(() => b.node.primary === "node-a");
    expect((await request(`${b.proxyUrl}/items`, { method: "POST", body: "x" })).status).toBe(201);
    expect(a.app.writes.length).toBe(before + 1);
    expect((await request(`${b.proxyUrl}/litefs-node/health`)).status).toBe(200);
  });

  it("the primary unreachable: 502, nothing written locally", async () => {
    const dead = `http://127.0.0.1:${await closedPort()}`;
    const { proxyUrl } = await startProxy(b, { "node-a": dead });
    const res = await request(`${proxyUrl}/items`, { method: "POST", body: "x" });
    expect(res.status).toBe(502);
    expect(await res.text()).toMatch(/unreachable; nothing was written here/);
    expect(b.app.writes.length + b.app.refused.length).toBe(0);
  });

  it("a body over the limit: 413 before anything is forwarded", async () => {
    const before = a.app.writes.length;
    const { proxyUrl } = await startProxy(b, { "node-a": a.proxyUrl }, { bodyLimit: 1024 });
    const res = await request(`${proxyUrl}/items`, { method: "POST", body: Buffer.alloc(4096, 1) });
    expect(res.status).toBe(413);
    expect(await res.text()).toMatch(/1024-byte limit \(LITEFS_FORWARD_BODY_LIMIT\)/);
    expect(a.app.writes.length).toBe(before);
  });
});

describe("read-your-writes on the replica, driven by the /events tx stream", () => {
  async function writeThroughReplica(): Promise<string> {
    const res = await request(`${b.proxyUrl}/items`, { method: "POST", body: "{}" });
    expect(res.status).toBe(201);
    const txid = res.headers.get("litefs-txid");
    expect(txid).toBe(hex(primaryTxid));
    return txid as string;
  }

  it("caught up: the read is served at once", async () => {
    const txid = await writeThroughReplica();
    await replicate();
    await waitFor(() => b.node.txid(DB) === primaryTxid);
    const started = Date.now();
    const res = await request(`${b.proxyUrl}/items`, { headers: { "litefs-txid": txid } });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { node: string }).node).toBe("node-b");
    expect(Date.now() - started).toBeLessThan(300);
  });

  it("catches up later: the read waits for the tx event, then is served locally", async () => {
    const txid = await writeThroughReplica();
    expect(b.node.txid(DB)).toBeLessThan(primaryTxid);
    const started = Date.now();
    const pending = request(`${b.proxyUrl}/items`, { headers: { cookie: `__txid=${txid}` } });
    setTimeout(() => void replicate(), 250);
    const res = await pending;
    const elapsed = Date.now() - started;
    expect(res.status).toBe(200);
    expect(((await res.json()) as { node: string }).node).toBe("node-b");
    expect(elapsed).toBeGreaterThanOrEqual(200);
    expect(elapsed).toBeLessThan(2500); // the RYW timeout is 3000 ms (and would answer 504): it was the event
  });

  it("never catches up: 504 after the timeout", async () => {
    const short = await startProxy(b, { "node-a": a.proxyUrl }, { rywTimeout: 300 });
    const txid = await writeThroughReplica();
    const started = Date.now();
    const res = await request(`${short.proxyUrl}/items`, { headers: { "litefs-txid": txid } });
    expect(res.status).toBe(504);
    expect(await res.text()).toMatch(/^Proxy timeout/);
    expect(Date.now() - started).toBeGreaterThanOrEqual(280);
    const metrics = await (await request(`${short.proxyUrl}/litefs-node/metrics`)).text();
    expect(metrics).toMatch(/^litefs_node_forwarded_requests_total\{outcome="ryw-timeout"\} 1$/m);
    expect(metrics).toMatch(/^litefs_node_txid_waits_total\{outcome="timeout"\} 1$/m);
  });

  it("never catches up, forward mode: the read is served by the primary", async () => {
    const { proxyUrl } = await startProxy(b, { "node-a": a.proxyUrl }, { rywTimeout: 200, rywTimeoutMode: "forward" });
    const txid = await writeThroughReplica();
    const res = await request(`${proxyUrl}/items`, { headers: { "litefs-txid": txid } });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { node: string }).node).toBe("node-a");
  });

  it("waitForTxid on the real node: false while behind, true once the tx event lands", async () => {
    await writeThroughReplica();
    expect(await waitForTxid(b.node, DB, primaryTxid, { timeoutMs: 150 })).toBe(false);
    setTimeout(() => void replicate(), 100);
    const started = Date.now();
    expect(await waitForTxid(b.node, DB, hex(primaryTxid), { timeoutMs: 3000 })).toBe(true);
    expect(Date.now() - started).toBeLessThan(1000);
  });
});

describe("health and metrics through the proxy", () => {
  it("reports the node and counts forwarded requests", async () => {
    const health = await request(`${b.proxyUrl}/litefs-node/health`);
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({
      role: "replica",
      primary: "node-a",
      txid: hex(primaryTxid),
      splitBrain: false,
      election: { mode: "static" },
    });
    const primaryHealth = await request(`${a.proxyUrl}/litefs-node/health`);
    expect(await primaryHealth.json()).toMatchObject({ role: "primary", primary: "node-a", lagMs: 0 });

    const text = await (await request(`${b.proxyUrl}/litefs-node/metrics`)).text();
    const samples = new Map<string, number>();
    for (const line of text.split("\n")) {
      const m = /^([a-z_]+(?:\{[^}]*\})?) (\S+)$/.exec(line);
      if (m) samples.set(m[1] as string, Number(m[2]));
    }
    expect(samples.get('litefs_node_role{role="replica"}')).toBe(1);
    expect(samples.get(`litefs_node_txid{db="db"}`)).toBe(Number(primaryTxid));
    expect(samples.get('litefs_node_forwarded_requests_total{outcome="forwarded"}')).toBeGreaterThanOrEqual(3);
    expect(samples.get('litefs_node_forwarded_requests_total{outcome="no-primary"}')).toBe(1);
  });
});

function waitFor(condition: () => boolean, timeoutMs = 3000): Promise<void> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const tick = (): void => {
      if (condition()) return resolve();
      if (Date.now() - started > timeoutMs) return reject(new Error(`condition not met within ${timeoutMs} ms`));
      setTimeout(tick, 5);
    };
    tick();
  });
}
