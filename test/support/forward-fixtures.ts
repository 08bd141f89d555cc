// Building blocks for forwarding-proxy tests over real HTTP on 127.0.0.1: a node view the test
// steers (role, primary, TXID, tx events), an app server that records what reached it, and the
// proxy itself. forwardFixtures() binds both starters to one cleanup list for the file's afterEach.
import { createHash } from "node:crypto";
import { EventEmitter } from "node:events";
import http, { type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import type { Logger } from "pino";
import { createForwardingProxy, type ForwardingNodeView } from "../../src/forward/proxy.js";
import { loadForwardSettings, type ForwardSettingsInput } from "../../src/forward/settings.js";
import type { TxNotice } from "../../src/node/node.js";
import { createMetrics, type LiteFSNodeMetrics } from "../../src/health/metrics.js";

export class ViewNode extends EventEmitter implements ForwardingNodeView {
  position: bigint | null = 4n;
  constructor(
    public role: "primary" | "replica",
    public primary: string | null,
    public splitBrain = false,
  ) {
    super();
  }
  lagMs: number | null = 0;
  txid(): bigint | null {
    return this.position;
  }
  apply(txid: bigint): void {
    this.position = txid;
    this.emit("tx", { db: "db", txid } satisfies TxNotice);
  }
}

interface Hit {
  method: string;
  path: string;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

export type Route = (req: IncomingMessage, res: ServerResponse, body: Buffer) => void;

export interface TestApp {
  url: string;
  hits: Hit[];
  writes: () => number;
  server: http.Server;
}

export interface TestProxy {
  url: string;
  metrics: LiteFSNodeMetrics;
  close: () => Promise<void>;
}

export const request = (url: string, init: RequestInit = {}): Promise<Response> =>
  fetch(url, { ...init, signal: AbortSignal.timeout(8000) });

export const metricValue = async (metrics: LiteFSNodeMetrics, sample: string): Promise<number | undefined> => {
  for (const line of (await metrics.render()).split("\n"))
    if (line.startsWith(`${sample} `)) return Number(line.slice(sample.length + 1));
  return undefined;
};

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export function forwardFixtures(): {
  cleanups: (() => Promise<void> | void)[];
  startApp: (name: string, routes?: Record<string, Route>) => Promise<TestApp>;
  startProxy: (
    node: ForwardingNodeView,
    settings: ForwardSettingsInput,
    nodeId?: string,
    logger?: Logger,
  ) => Promise<TestProxy>;
} {
  const cleanups: (() => Promise<void> | void)[] = [];

  /** An app that records every request (body read in full) and answers JSON naming itself and the body's hash. */
  async function startApp(name: string, routes: Record<string, Route> = {}): Promise<TestApp> {
    const hits: Hit[] = [];
    const server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        const body = Buffer.concat(chunks);
        const path = req.url ?? "/";
        hits.push({ method: req.method ?? "", path, headers: req.headers, body });
        const route = routes[path.split("?")[0] ?? "/"];
        if (route) return route(req, res, body);
        res.writeHead(req.method === "GET" || req.method === "HEAD" ? 200 : 201, {
          "content-type": "application/json",
          "x-app": name,
        });
        res.end(JSON.stringify({ node: name, sha256: createHash("sha256").update(body).digest("hex") }));
      });
    });
    const sockets = new Set<Socket>();
    server.on("connection", (s: Socket) => {
      sockets.add(s);
      s.on("close", () => sockets.delete(s));
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    cleanups.push(
      () =>
        new Promise<void>((r) => {
          for (const s of sockets) s.destroy();
          server.close(() => r());
        }),
    );
    return {
      url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
      hits,
      writes: () => hits.filter((h) => h.method !== "GET" && h.method !== "HEAD" && h.method !== "OPTIONS").length,
      server,
    };
  }

  async function startProxy(
    node: ForwardingNodeView,
    settings: ForwardSettingsInput,
    nodeId = "node-b",
    logger?: Logger,
  ): Promise<TestProxy> {
    const metrics = createMetrics();
    const proxy = createForwardingProxy({
      node,
      settings: loadForwardSettings({ listen: "127.0.0.1:0", target: "http://{host}.invalid:8080", ...settings }, {}),
      db: "db",
      nodeId,
      metrics,
      health: true,
      connectTimeoutMs: 2000,
      ...(logger ? { logger } : {}),
    });
    const { url } = await proxy.listen();
    cleanups.push(() => proxy.close());
    return { url, metrics, close: () => proxy.close() };
  }

  return { cleanups, startApp, startProxy };
}

/**
 * Environment for `litefs-node forward` running as node-b, a replica whose primary is node-a: the
 * LiteFS mount at `mountPath`, its API (the /events stand-in) on `eventsPort`, the local app
 * `upstream`, node-a's app `primaryApp`.
 */
export function replicaProxyEnv(
  mountPath: string,
  eventsPort: number,
  upstream: string,
  primaryApp: string,
): Record<string, string> {
  return {
    LITEFS_ENABLED: "true",
    LITEFS_MOUNT_PATH: mountPath,
    LITEFS_DATA_PATH: `${mountPath}-data`,
    LITEFS_DATABASE: "db",
    LITEFS_NODE_ID: "node-b",
    LITEFS_PRIMARY_HOSTNAME: "node-a",
    LITEFS_HTTP_ADDR: `127.0.0.1:${eventsPort}`,
    LITEFS_FORWARD_UPSTREAM: upstream,
    LITEFS_FORWARD_HOSTS: `node-a=${primaryApp}`,
  };
}
