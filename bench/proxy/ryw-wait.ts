// The read-your-writes wait, in one process: a real LiteFSNode following a replayed /events
// stream (test/support's stand-in), the forwarding proxy and an app. Each round a read asks for
// TXID n+1 through the proxy, then the stream delivers `tx` n+1. Measured from the node emitting
// that `tx` (the event has just been parsed off the stream) to (a) waitForTxid() resolving and
// (b) the proxied read reaching the app (resume + one loopback HTTP hop).
import http from "node:http";
import type { AddressInfo } from "node:net";
import { loadSettings } from "../../src/config/index.js";
import { createNode } from "../../src/node/node.js";
import { createForwardingProxy } from "../../src/forward/proxy.js";
import { loadForwardSettings } from "../../src/forward/settings.js";
import { waitForTxid } from "../../src/forward/wait-for-txid.js";
import { startEventsServer } from "../../test/support/events-server.js";
import { createTempMount } from "../../test/support/litefs-mount.js";

const DB = "db";
const hex = (txid: bigint): string => txid.toString(16).padStart(16, "0");

export interface RywWaitResult {
  /** tx event -> waitForTxid() resolved, ms. */
  readonly apiMs: number[];
  /** tx event -> the waiting proxied read arrives at the app, ms. */
  readonly proxiedMs: number[];
}

export async function measureRywWait(rounds: number): Promise<RywWaitResult> {
  const mount = createTempMount({ role: "replica", primary: "node-a" });
  const events = await startEventsServer({ fixture: "replica" });
  const settings = loadSettings(
    {
      enabled: true,
      mountPath: mount.path,
      dataPath: `${mount.path}-data`,
      databaseName: DB,
      nodeId: "node-b",
      primaryHostname: "node-a",
      httpAddr: `127.0.0.1:${events.port}`,
    },
    {},
  );
  const node = await createNode(settings, { readyTimeoutMs: 3000 });
  let arrived: ((at: number) => void) | null = null;
  const app = http.createServer((req, res) => {
    arrived?.(performance.now());
    req.resume();
    res.end("ok");
  });
  await new Promise<void>((r) => app.listen(0, "127.0.0.1", r));
  const proxy = createForwardingProxy({
    node,
    settings: loadForwardSettings(
      {
        listen: "127.0.0.1:0",
        upstream: `http://127.0.0.1:${(app.address() as AddressInfo).port}`,
        target: "http://{host}:8080",
      },
      {},
    ),
    db: DB,
  });
  const { url } = await proxy.listen();
  // Registered before any wait: it runs first of the tx listeners, at the moment the event is emitted.
  let txAt = 0;
  node.on("tx", () => (txAt = performance.now()));
  const agent = new http.Agent({ keepAlive: true });
  const apiMs: number[] = [];
  const proxiedMs: number[] = [];
  try {
    await events.waitForStreams(1);
    let txid = node.txid(DB) ?? 0n;
    for (let i = 0; i < rounds; i++) {
      const target = txid + 1n;
      const appArrival = new Promise<number>((resolve) => (arrived = resolve));
      const read = new Promise<void>((resolve, reject) => {
        http
          .get(`${url}/r`, { agent, headers: { "litefs-txid": hex(target) } }, (res) => {
            res.resume();
            res.on("end", () =>
              res.statusCode === 200 ? resolve() : reject(new Error(`read answered ${res.statusCode}`)),
            );
          })
          .on("error", reject);
      });
      let apiAt = 0;
      const api = waitForTxid(node, DB, target, { timeoutMs: 5000 }).then((ok) => {
        apiAt = performance.now();
        if (!ok) throw new Error(`waitForTxid(${hex(target)}) timed out`);
      });
      // Let the read reach the proxy and start waiting.
      await new Promise((r) => setTimeout(r, 15));
      mount.setPosition(target);
      await events.sendEvent({
        type: "tx",
        db: DB,
        data: {
          txID: hex(target),
          postApplyChecksum: "a2fc350afcb62d33",
          pageSize: 4096,
          commit: 2,
          timestamp: new Date().toISOString(),
        },
      });
      const appAt = await appArrival;
      await Promise.all([api, read]);
      apiMs.push(apiAt - txAt);
      proxiedMs.push(appAt - txAt);
      txid = target;
    }
  } finally {
    agent.destroy();
    await proxy.close();
    await new Promise<void>((r) => {
      app.closeAllConnections();
      app.close(() => r());
    });
    await node.close();
    await events.close();
    mount.cleanup();
  }
  return { apiMs, proxiedMs };
}
