// litefs-node/litefs-js: litefs-js's functions answered by litefs-node's node, fed by recorded
// LiteFS /events streams and a temp mount; and ensurePrimary's replay Response acted on by
// `litefs-node forward` self-hosted, as Fly.io's edge does.
import { afterEach, describe, expect, it } from "vitest";
import type { LiteFSNode } from "../../src/node/node.js";
import {
  appendTxNumberCookie,
  checkCookieForTransactionalConsistency,
  ensureInstance,
  ensurePrimary,
  getInstanceInfo,
  getInstanceInfoSync,
  getReplayResponse,
  getTxNumber,
  getTxSetCookieHeader,
  handleTransactionalConsistency,
  TXID_NUM_COOKIE_NAME,
  useLiteFSNode,
  waitForUpToDateTxNumber,
} from "../../src/litefs-js/index.js";
import { consulNodeFixture } from "../support/consul-node.js";
import type { EventsFixture, EventsServer } from "../support/events-server.js";
import { forwardFixtures, request } from "../support/forward-fixtures.js";
import type { MountState, TempMount } from "../support/litefs-mount.js";
import { waitFor } from "../support/node-probes.js";

const fixture = consulNodeFixture();
const { cleanups, startApp, startProxy } = forwardFixtures();
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
  await fixture.cleanup();
});
let server: EventsServer;
let mount: TempMount;

async function open(nodeId: string, events: EventsFixture, state: MountState): Promise<LiteFSNode> {
  const opened = await fixture.open(nodeId, events, state);
  server = opened.server;
  mount = opened.mount;
  return opened.node;
}

async function thrown(promise: Promise<unknown>): Promise<Response> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof Response) return error;
    throw error;
  }
  throw new Error("expected a thrown Response");
}

const txEvent = (txid: number) => ({
  type: "tx",
  db: "db",
  data: {
    txID: txid.toString(16).padStart(16, "0"),
    postApplyChecksum: "a2fc350afcb62d33",
    pageSize: 4096,
    commit: 2,
    timestamp: new Date().toISOString(),
  },
});

describe("instance info", () => {
  it("primary: current is primary, named by nodeId", async () => {
    const n = await open("node-a", "primary", { role: "primary" });
    expect(await getInstanceInfo({ node: n })).toEqual({
      primaryInstance: "node-a",
      currentInstance: "node-a",
      currentIsPrimary: true,
    });
    expect(getInstanceInfoSync({ node: n })).toEqual({
      primaryInstance: "node-a",
      currentInstance: "node-a",
      currentIsPrimary: true,
    });
  });

  it("replica: names the primary LiteFS reports", async () => {
    const n = await open("node-b", "replica", { role: "replica", primary: "node-a" });
    expect(await getInstanceInfo({ node: n })).toEqual({
      primaryInstance: "node-a",
      currentInstance: "node-b",
      currentIsPrimary: false,
    });
  });

  it("a replica that lost its primary is not taken for the primary (litefs-js would: no .primary file)", async () => {
    const n = await open("node-b", "replica", { role: "replica", primary: "node-a" });
    mount.setReplicaLostPrimary();
    await server.sendEvent({ type: "primaryChange", data: { isPrimary: false } });
    await waitFor(() => n.primary === null, "the primary lost");
    expect(await getInstanceInfo({ node: n })).toEqual({
      primaryInstance: "",
      currentInstance: "node-b",
      currentIsPrimary: false,
    });
    const response = await thrown(ensurePrimary({ node: n }));
    expect(response.status).toBe(503);
    expect(response.headers.get("retry-after")).toBe("1");
  });

  it("useLiteFSNode sets the node every call without options asks", async () => {
    const n = await open("node-b", "replica", { role: "replica", primary: "node-a" });
    useLiteFSNode(n);
    expect((await getInstanceInfo()).currentInstance).toBe("node-b");
    expect(await getTxNumber()).toBe(4);
  });
});

describe("ensurePrimary / ensureInstance", () => {
  it("true on the primary; a replica throws litefs-js's replay Response to the primary", async () => {
    const primary = await open("node-a", "primary", { role: "primary" });
    await expect(ensurePrimary({ node: primary })).resolves.toBe(true);
    await fixture.cleanup();

    const replica = await open("node-b", "replica", { role: "replica", primary: "node-a" });
    const response = await thrown(ensurePrimary({ node: replica }));
    expect(response.status).toBe(302);
    expect(response.headers.get("fly-replay")).toBe("instance=node-a");
    expect(response.headers.get("location")).toBe("/");
    await expect(ensureInstance("node-b", { node: replica })).resolves.toBe(true);
    expect((await thrown(ensureInstance("node-c", { node: replica }))).headers.get("fly-replay")).toBe(
      "instance=node-c",
    );
  });

  it("self-hosted, litefs-node forward replays the thrown response on the primary (a mutating GET)", async () => {
    const replica = await open("node-b", "replica", { role: "replica", primary: "node-a" });
    const primaryApp = await startApp("node-a");
    // The replica's app: a GET route that writes, guarded with ensurePrimary as in the Epic Stack.
    const replicaApp = await startApp("node-b", {
      "/auth/callback": (_req, res) => {
        ensurePrimary({ node: replica }).then(
          () => res.writeHead(200).end("wrote here"),
          (thrown: unknown) => {
            const thrownResponse = thrown as Response;
            res.writeHead(thrownResponse.status, Object.fromEntries(thrownResponse.headers));
            res.end();
          },
        );
      },
    });
    const view = {
      role: "replica" as const,
      primary: "node-a",
      splitBrain: false,
      lagMs: 0,
      txid: () => 4n,
      on: () => undefined,
      off: () => undefined,
    };
    const proxy = await startProxy(view, { upstream: replicaApp.url, hosts: { "node-a": primaryApp.url } });
    const response = await request(`${proxy.url}/auth/callback?code=1`);
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ node: "node-a" });
    expect(primaryApp.hits.map((h) => h.path)).toEqual(["/auth/callback?code=1"]);
  });
});

describe("transaction numbers", () => {
  it("getTxNumber reads the position; waitForUpToDateTxNumber ends on the tx push, or false at the timeout", async () => {
    const n = await open("node-b", "replica", { role: "replica", primary: "node-a" });
    expect(await getTxNumber({ node: n })).toBe(4);
    expect(await waitForUpToDateTxNumber(4, { node: n })).toBe(true);

    const started = performance.now();
    const waiting = waitForUpToDateTxNumber(7, { node: n, timeoutMs: 3000 });
    setTimeout(() => void server.sendEvent(txEvent(7)), 100);
    expect(await waiting).toBe(true);
    expect(performance.now() - started).toBeLessThan(2500);
    expect(await getTxNumber({ node: n })).toBe(7);

    expect(await waitForUpToDateTxNumber(99, { node: n, timeoutMs: 150 })).toBe(false);
  });

  it("while /events is down the position file is re-read every intervalMs", async () => {
    const n = await open("node-b", "replica", { role: "replica", primary: "node-a" });
    server.setEventsStatus(503);
    server.dropConnections();
    await new Promise((r) => setTimeout(r, 100));
    const waiting = waitForUpToDateTxNumber(9, { node: n, timeoutMs: 3000, intervalMs: 20 });
    setTimeout(() => mount.setPosition(9n), 100);
    expect(await waiting).toBe(true);
  });

  it("the txnum cookie: set after a mutation on the primary, checked on a replica", async () => {
    const n = await open("node-b", "replica", { role: "replica", primary: "node-a" });
    expect(getTxSetCookieHeader(12)).toBe(`${TXID_NUM_COOKIE_NAME}=12; Path=/; HttpOnly; Secure; SameSite=Lax`);

    expect(await checkCookieForTransactionalConsistency(null, { node: n })).toEqual({ type: "ok" });
    expect(await checkCookieForTransactionalConsistency("txnum=4", { node: n })).toMatchObject({
      type: "delete-cookie",
    });
    expect(await checkCookieForTransactionalConsistency("txnum=abc", { node: n })).toMatchObject({
      type: "delete-cookie",
    });
    const behind = await checkCookieForTransactionalConsistency("a=b; txnum=50", { node: n, timeoutMs: 100 });
    expect(behind).toEqual({ type: "replay", flyReplayHeader: "instance=node-a", instance: "node-a" });

    const request50 = new Request("http://app/notes", { headers: { cookie: "txnum=50" } });
    const replay = await thrown(handleTransactionalConsistency(request50, { node: n, timeoutMs: 100 }));
    expect(replay.headers.get("fly-replay")).toBe("instance=node-a");
    const request4 = new Request("http://app/notes", { headers: { cookie: "txnum=4" } });
    const ok = await handleTransactionalConsistency(request4, { node: n });
    expect(ok).toMatchObject({
      type: "delete-cookie",
      setCookieHeader: expect.stringMatching(/^txnum=0; .*Expires=Thu, 01 Jan 1970/),
    });

    // appendTxNumberCookie: only for a mutation, only on the primary.
    const headers = new Headers();
    await appendTxNumberCookie(new Request("http://app/notes", { method: "POST" }), headers, { node: n });
    expect(headers.get("set-cookie")).toBeNull();
  });

  it("appendTxNumberCookie on the primary carries the new TXID", async () => {
    const n = await open("node-a", "primary", { role: "primary" });
    const headers = new Headers();
    await appendTxNumberCookie(new Request("http://app/notes", { method: "GET" }), headers, { node: n });
    expect(headers.get("set-cookie")).toBeNull();
    await appendTxNumberCookie(new Request("http://app/notes", { method: "POST" }), headers, { node: n });
    expect(headers.get("set-cookie")).toBe(getTxSetCookieHeader(4));
    expect(getReplayResponse("node-c").headers.get("fly-replay")).toBe("instance=node-c");
  });
});
