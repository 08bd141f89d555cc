// consul mode: LiteFS holds its own Consul lease and its view is authoritative. The gate follows
// the recorded /events streams (and the mount files while the stream is down) with no split-brain
// rule of its own: whatever node LiteFS names as primary is the primary.
import { afterEach, describe, expect, it } from "vitest";
import { isNotPrimaryError, NotPrimaryError } from "../../src/errors.js";
import type { LiteFSNode } from "../../src/node/node.js";
import { consulNodeFixture } from "../support/consul-node.js";
import type { EventsFixture, EventsServer } from "../support/events-server.js";
import type { MountState, TempMount } from "../support/litefs-mount.js";
import { waitFor, refusal } from "../support/node-probes.js";

const fixture = consulNodeFixture();
afterEach(() => fixture.cleanup());
let server: EventsServer;
let mount: TempMount;

async function consulNode(nodeId: string, events: EventsFixture, state: MountState): Promise<LiteFSNode> {
  const opened = await fixture.open(nodeId, events, state);
  server = opened.server;
  mount = opened.mount;
  return opened.node;
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
    await server.sendEvent({ type: "primaryChange", data: { isPrimary: false } });
    await waitFor(() => n.primary === null, "no primary");
    expect(refusal(n)).toMatchObject({ reason: "no-primary" });
    await server.sendEvent({ type: "primaryChange", data: { isPrimary: false, hostname: "node-c" } });
    await waitFor(() => n.primary === "node-c", "node-c named");
    expect(refusal(n)).toMatchObject({ reason: "replica", primary: "node-c" });
    expect(n.splitBrain).toBe(false);

    // Then this node wins it.
    await server.sendEvent({ type: "primaryChange", data: { isPrimary: true } });
    await waitFor(() => n.role === "primary", "promotion");
    n.gate.assertWritable();
  });

  it("while /events is down the mount files decide, a lost primary included", async () => {
    const n = await consulNode("node-b", "replica", { role: "replica", primary: "node-a" });
    server.setEventsStatus(503);
    server.dropConnections();
    await waitFor(() => n.source === "files", "fallback to the files");
    expect(refusal(n)).toMatchObject({ reason: "replica", primary: "node-a" });
    mount.setReplicaLostPrimary();
    await waitFor(
      () => isNotPrimaryError(refusal(n)) && (refusal(n) as NotPrimaryError).reason === "no-primary",
      "no primary from the files",
    );
    mount.setPrimary();
    await waitFor(() => refusal(n) === null, "primary from the files");
    expect(n.splitBrain).toBe(false);
  });
});
