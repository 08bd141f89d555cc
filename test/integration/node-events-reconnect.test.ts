// A node whose /events stream LiteFS ends (as it does to a subscriber whose 1024-event buffer
// filled) is back on the stream at once, counts the loss in its metrics and logs it once.
import { afterEach, describe, expect, it } from "vitest";
import { pino } from "pino";
import type { LiteFSNode } from "../../src/node/node.js";
import { createMetrics } from "../../src/health/metrics.js";
import type { EventsServer } from "../support/events-server.js";
import { NodeStandIns } from "../support/node-standin.js";
import { waitFor } from "../support/node-probes.js";

interface LogLine {
  level: number;
  msg: string;
}

const standIns = new NodeStandIns();
afterEach(() => standIns.closeAll());

async function setup(): Promise<{ node: LiteFSNode; server: EventsServer; lines: LogLine[] }> {
  const lines: LogLine[] = [];
  const logger = pino({ level: "debug" }, { write: (text: string) => void lines.push(JSON.parse(text) as LogLine) });
  const { node, server } = await standIns.start({
    nodeId: "node-a",
    events: { fixture: "primary" },
    mount: { role: "primary" },
    // A reconnect backoff far longer than the test: only an immediate reconnect can pass.
    node: { logger, backoff: { initialMs: 10_000, maxMs: 10_000 }, readyTimeoutMs: 3000, pollIntervalMs: 20 },
  });
  return { node, server, lines };
}

const WARN = 40;

describe("dropped /events subscription", () => {
  it("a stable stream LiteFS ends is back at once, counted once, logged once", async () => {
    const { node: n, server: s, lines } = await setup();
    const metrics = createMetrics();
    const detach = metrics.observeNode(n);
    expect(n.source).toBe("events");
    await new Promise((r) => setTimeout(r, 1100)); // longer than the 1 s a stream must last to count as stable

    s.endStreams();
    await waitFor(() => s.eventsRequests === 2, "a second /events request", 2000);
    await waitFor(() => n.source === "events", "the gate back on the stream", 2000);
    n.gate.assertWritable();

    await waitFor(() => lines.some((l) => /reconnected/.test(l.msg)), "the reconnect log line");
    const warnings = lines.filter((l) => l.level >= WARN);
    expect(warnings.map((l) => l.msg)).toEqual([
      expect.stringMatching(/LiteFS \/events lost: LiteFS ended the stream .*1024-event buffer/),
    ]);
    expect(await metrics.render()).toMatch(/^litefs_node_events_disconnects_total\{cause="ended"\} 1$/m);
    detach();
  });

  it("an abrupt drop followed by refused connects: one warning for the whole episode", async () => {
    const { node: n, server: s, lines } = await setup();
    const metrics = createMetrics();
    metrics.observeNode(n);
    await new Promise((r) => setTimeout(r, 1100));

    s.setEventsStatus(503);
    s.dropConnections();
    await waitFor(() => s.eventsRequests >= 2, "a reconnect attempt", 2000);
    await waitFor(() => n.source === "files", "the gate on the files");
    expect(lines.filter((l) => l.level >= WARN)).toHaveLength(1);
    expect(await metrics.render()).toMatch(/^litefs_node_events_disconnects_total\{cause="error"\} 1$/m);
  });
});
