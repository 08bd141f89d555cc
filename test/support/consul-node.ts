// A consul-mode node (LiteFS's own lease: its view is the election) fed by a recorded /events
// stream and a temp mount, for tests of what follows LiteFS's view. One fixture per test file;
// call cleanup() in afterEach.
import { pino } from "pino";
import { loadSettings } from "../../src/config/index.js";
import { createNode, type LiteFSNode } from "../../src/node/node.js";
import { startEventsServer, type EventsFixture, type EventsServer } from "./events-server.js";
import { createTempMount, type MountState, type TempMount } from "./litefs-mount.js";

export interface ConsulNode {
  readonly node: LiteFSNode;
  readonly server: EventsServer;
  readonly mount: TempMount;
}

export function consulNodeFixture(): {
  open(nodeId: string, fixture: EventsFixture, state: MountState): Promise<ConsulNode>;
  cleanup(): Promise<void>;
} {
  let current: ConsulNode | null = null;
  return {
    async open(nodeId, fixture, state) {
      const server = await startEventsServer({ fixture });
      const mount = createTempMount(state);
      const settings = loadSettings(
        {
          leaderElection: "consul",
          nodeId,
          mountPath: mount.path,
          dataPath: "/var/lib/litefs",
          httpAddr: `127.0.0.1:${server.port}`,
          databaseName: "db",
        },
        {},
      );
      const node = await createNode(settings, {
        logger: pino({ level: "silent" }),
        backoff: { initialMs: 10, maxMs: 40 },
        pollIntervalMs: 20,
        readyTimeoutMs: 3000,
      });
      current = { node, server, mount };
      return current;
    },
    async cleanup() {
      if (current === null) return;
      const { node, server, mount } = current;
      current = null;
      await node.close();
      await server.close();
      mount.cleanup();
    },
  };
}
