// The health/metrics endpoints through each framework glue, over real HTTP on 127.0.0.1.
import http, { type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import {
  createHealthRequestListener,
  healthFetchHandler,
  healthMiddleware,
  matchesHealthRequest,
  HEALTH_PATH,
  METRICS_PATH,
} from "../../src/health/endpoints.js";
import { createMetrics } from "../../src/health/metrics.js";
import type { NodeStateView } from "../../src/health/node-view.js";
import type { Role } from "../../src/node/node-state.js";

class Node implements NodeStateView {
  role: Role = "replica";
  primary: string | null = "node-a";
  splitBrain = false;
  lagMs: number | null = 281;
  settings = { enabled: true, leaderElection: "static", nodeId: "node-b", databaseName: "db" };
  txid(): bigint | null {
    return 4n;
  }
}

const servers: http.Server[] = [];
afterEach(async () => {
  await Promise.all(
    servers.splice(0).map(
      (s) =>
        new Promise<void>((r) => {
          s.closeAllConnections();
          s.close(() => r());
        }),
    ),
  );
});

async function serve(listener: (req: IncomingMessage, res: ServerResponse) => void): Promise<string> {
  const server = http.createServer(listener);
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

function parseExposition(text: string): Map<string, number> {
  const samples = new Map<string, number>();
  for (const line of text.split("\n")) {
    if (line === "" || line.startsWith("#")) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})? (\S+)$/.exec(line);
    if (!m) throw new Error(`not a sample line: ${line}`);
    samples.set(`${m[1]}${m[2] ?? ""}`, Number(m[3]));
  }
  return samples;
}

const get = (url: string, init?: RequestInit): Promise<Response> =>
  fetch(url, { ...init, signal: AbortSignal.timeout(5000) });

describe("node:http listener", () => {
  it("200 with the JSON report when healthy, 503 on split brain / no primary / lag", async () => {
    const node = new Node();
    const url = await serve(createHealthRequestListener({ node, maxLagMs: 1000 }));
    let res = await get(url + HEALTH_PATH);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/application\/json/);
    expect(await res.json()).toMatchObject({
      role: "replica",
      primary: "node-a",
      txid: "0000000000000004",
      lagMs: 281,
      splitBrain: false,
      election: { mode: "static" },
    });

    node.splitBrain = true;
    res = await get(url + HEALTH_PATH);
    expect(res.status).toBe(503);
    expect(((await res.json()) as { splitBrain: boolean }).splitBrain).toBe(true);

    node.splitBrain = false;
    node.primary = null;
    expect((await get(url + HEALTH_PATH)).status).toBe(503);

    node.primary = "node-a";
    node.lagMs = 5000;
    expect((await get(url + HEALTH_PATH)).status).toBe(503);
    node.lagMs = 10;
    expect((await get(`${url}${HEALTH_PATH}?probe=1`)).status).toBe(200);
    // A replica that never synced (the node's Infinity): LiteFS's own number, as `status --json` prints it.
    node.lagMs = Number.POSITIVE_INFINITY;
    res = await get(url + HEALTH_PATH);
    expect(res.status).toBe(503);
    expect(await res.json()).toMatchObject({
      lagMs: 2147483647,
      problems: ["this replica has never synced with a primary"],
    });
    node.lagMs = 10;

    expect((await get(url + "/elsewhere")).status).toBe(404);
    const post = await get(url + HEALTH_PATH, { method: "POST" });
    expect(post.status).toBe(405);
    expect(post.headers.get("allow")).toBe("GET, HEAD");
    const head = await get(url + HEALTH_PATH, { method: "HEAD" });
    expect(head.status).toBe(200);
  });

  it("serves Prometheus metrics when given a metrics set", async () => {
    const node = new Node();
    const metrics = createMetrics();
    metrics.observeNode(node, { db: "db" });
    metrics.recordForward("forwarded");
    const url = await serve(createHealthRequestListener({ node, metrics }));
    const res = await get(url + METRICS_PATH);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/text\/plain; version=0\.0\.4/);
    const samples = parseExposition(await res.text());
    expect(samples.get('litefs_node_role{role="replica"}')).toBe(1);
    expect(samples.get('litefs_node_txid{db="db"}')).toBe(4);
    expect(samples.get('litefs_node_forwarded_requests_total{outcome="forwarded"}')).toBe(1);
  });
});

describe("Express/Connect middleware", () => {
  it("answers its paths and calls next() for the app's", async () => {
    const node = new Node();
    const mw = healthMiddleware({ node });
    // A minimal Connect-style chain: the middleware, then the app.
    const url = await serve((req, res) => {
      mw(req, res, (error?: unknown) => {
        res.writeHead(error ? 500 : 200, { "content-type": "text/plain" });
        res.end(error ? "error" : "app");
      });
    });
    const health = await get(url + HEALTH_PATH);
    expect(health.status).toBe(200);
    expect(((await health.json()) as { role: string }).role).toBe("replica");
    const app = await get(url + "/users");
    expect(await app.text()).toBe("app");
    node.primary = null;
    expect((await get(url + HEALTH_PATH)).status).toBe(503);
  });
});

describe("fetch-API handler", () => {
  it("maps Request to Response", async () => {
    const node = new Node();
    const metrics = createMetrics();
    metrics.observeNode(node);
    const handler = healthFetchHandler({ node, metrics });
    const ok = await handler(new Request(`http://app.local${HEALTH_PATH}`));
    expect(ok.status).toBe(200);
    expect(((await ok.json()) as { txid: string }).txid).toBe("0000000000000004");
    node.splitBrain = true;
    expect((await handler(new Request(`http://app.local${HEALTH_PATH}`))).status).toBe(503);
    const m = await handler(new Request(`http://app.local${METRICS_PATH}`));
    expect(parseExposition(await m.text()).get("litefs_node_split_brain")).toBe(1);
    expect((await handler(new Request("http://app.local/other"))).status).toBe(404);
    expect(matchesHealthRequest(new Request(`http://app.local${HEALTH_PATH}?x=1`), {})).toBe(true);
    expect(matchesHealthRequest(new Request(`http://app.local${METRICS_PATH}`), {})).toBe(false);
    expect(matchesHealthRequest(new Request("http://app.local/"), { metrics })).toBe(false);
  });
});
