// consul mode: LiteFS holds its own Consul lease and its view is authoritative. The gate follows
// the recorded /events streams (and the mount files while the stream is down) with no split-brain
// rule of its own: whatever node LiteFS names as primary is the primary.
import { afterEach, describe, expect, it } from "vitest";
import { pino } from "pino";
import { loadSettings } from "../../src/config/index.js";
import { isNotPrimaryError, NotPrimaryError } from "../../src/errors.js";
import { createNode, type LiteFSNode } from "../../src/election/node.js";
import { startEventsServer, type EventsFixture, type EventsServer } from "../support/events-server.js";
import { createTempMount, type MountState, type TempMount } from "../support/litefs-mount.js";

function waitFor(condition: () => boolean, what: string, timeoutMs = 3000): Promise<void> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const tick = (): void => {
      if (condition()) return resolve();
      if (Date.now() - started > timeoutMs) return reject(new Error(`timed out waiting for ${what}`));
      setTimeout(tick, 5);
    };
    tick();
  });
}

function refusal(n: LiteFSNode): unknown {
  try {
    n.gate.assertWritable();
    return null;
  } catch (e) {
    return e;
  }
}

let server: EventsServer | undefined;
let mount: TempMount | undefined;
let node: LiteFSNode | undefined;
afterEach(async () => {
  await node?.close();
  node = undefined;
  await server?.close();
  server = undefined;
  mount?.cleanup();
  mount = undefined;
});

async function consulNode(nodeId: string, fixture: EventsFixture, mountState: MountState): Promise<LiteFSNode> {
  server = await startEventsServer({ fixture });
  mount = createTempMount(mountState);
  const settings = loadSettings(
    { leaderElection: "consul", nodeId, mountPath: mount.path, dataPath: "/var/lib/litefs", httpAddr: `127.0.0.1:${server.port}`, databaseName: "db" },
    {},
  );
  node = await createNode(settings, { logger: pino({ level: "silent" }), backoff: { initialMs: 10, maxMs: 40 }, pollIntervalMs: 20, readyTimeoutMs: 3000 });
  return node;
}

describe("consul mode: the gate follows LiteFS's own view", () => {
  it("whichever node LiteFS made primary may write: no static rule can call it split brain", async () => {
    // In static mode node-c being primary while primaryHostname is node-a would be split brain.
    const n = await consulNode("node-c", "primary", { role: "primary" });
    expect(n.source).toBe("events");
    n.gate.assertWritable();
    expect(n.snapshot()).toEqual({ role: "primary", primary: "node-c", splitBrain: false, source: "events" });
  });

  it("a replica refuses writes naming the primary LiteFS reports, and follows a failover pushed by /events", async () => {
    const n = await consulNode("node-b", "replica", { role: "replica", primary: "node-a" });
    const first = refusal(n) as NotPrimaryError;
    expect(first).toBeInstanceOf(NotPrimaryError);
    expect(first).toMatchObject({ reason: "replica", primary: "node-a" });

    // The primary is lost: LiteFS names no one; then node-c wins the Consul lease.
    await server!.sendEvent({ type: "primaryChange", data: { isPrimary: false } });
    await waitFor(() => n.primary === null, "no primary");
    expect(refusal(n)).toMatchObject({ reason: "no-primary" });
    await server!.sendEvent({ type: "primaryChange", data: { isPrimary: false, hostname: "node-c" } });
    await waitFor(() => n.primary === "node-c", "node-c named");
    expect(refusal(n)).toMatchObject({ reason: "replica", primary: "node-c" });
    expect(n.splitBrain).toBe(false);

    // Then this node wins it.
    await server!.sendEvent({ type: "primaryChange", data: { isPrimary: true } });
    await waitFor(() => n.role === "primary", "promotion");
    n.gate.assertWritable();
  });

  it("while /events is down the mount files decide, a lost primary included", async () => {
    const n = await consulNode("node-b", "replica", { role: "replica", primary: "node-a" });
    server!.setEventsStatus(503);
    server!.dropConnections();
    await waitFor(() => n.source === "files", "fallback to the files");
    expect(refusal(n)).toMatchObject({ reason: "replica", primary: "node-a" });
    mount!.setReplicaLostPrimary();
    await waitFor(() => isNotPrimaryError(refusal(n)) && (refusal(n) as NotPrimaryError).reason === "no-primary", "no primary from the files");
    mount!.setPrimary();
    await waitFor(() => refusal(n) === null, "primary from the files");
    expect(n.splitBrain).toBe(false);
  });
});
