// A LiteFS node on stand-ins, for the node tests: the replayed /events server (events-server.ts),
// a temp mount written like LiteFS's (litefs-mount.ts), and static-mode settings pointing at both.
// Every piece a test opens through a NodeStandIns is closed by closeAll() (call it in afterEach),
// the node first so its stream ends before the server goes, so no stream or temp dir outlives a test.
//
// Usage:
//   const standIns = new NodeStandIns();
//   afterEach(() => standIns.closeAll());
//   const { node, server, mount } = await standIns.start({
//     nodeId: "node-b", events: { fixture: "replica" }, mount: { role: "replica" }, node: { logger },
//   });
//   // or piece by piece: standIns.serve(...), standIns.mountAt(...), standIns.create(nodeSettings(...), ...)
import { loadSettings, type LiteFSSettings, type LiteFSSettingsInput } from "../../src/config/index.js";
import { createNode, openNode, type LiteFSNode, type OpenNodeOptions } from "../../src/node/node.js";
import { startEventsServer, type EventsServer, type EventsServerOptions } from "./events-server.js";
import { createTempMount, type MountState, type TempMount } from "./litefs-mount.js";

/**
 * Static-mode settings of `nodeId` (the primary is "node-a", the database "db") on the mount at
 * `mountPath`, with the LiteFS API at `httpAddr` ("127.0.0.1:1" when no API should answer).
 */
export function nodeSettings(
  nodeId: string,
  mountPath: string,
  httpAddr: string,
  extra: Partial<LiteFSSettingsInput> = {},
): LiteFSSettings {
  return loadSettings(
    {
      nodeId,
      primaryHostname: "node-a",
      mountPath,
      dataPath: "/var/lib/litefs",
      httpAddr,
      databaseName: "db",
      ...extra,
    },
    {},
  );
}

export interface NodeStandInOptions {
  readonly nodeId: string;
  /** What the /events stand-in replays (a recorded fixture or a raw stream). */
  readonly events: EventsServerOptions;
  /** The mount files' state before the node opens. */
  readonly mount: MountState;
  /** Settings beyond nodeSettings' (e.g. raft mode). */
  readonly settings?: Partial<LiteFSSettingsInput>;
  readonly node: OpenNodeOptions;
}

export class NodeStandIns {
  private server: EventsServer | undefined;
  private mount: TempMount | undefined;
  private node: LiteFSNode | undefined;

  /** The /events stand-in, the mount, and a node created on both (resolved once it is ready). */
  async start(options: NodeStandInOptions): Promise<{ node: LiteFSNode; server: EventsServer; mount: TempMount }> {
    const server = await this.serve(options.events);
    const mount = this.mountAt(options.mount);
    const settings = nodeSettings(options.nodeId, mount.path, `127.0.0.1:${server.port}`, options.settings);
    const node = await this.create(settings, options.node);
    return { node, server, mount };
  }

  async serve(options: EventsServerOptions): Promise<EventsServer> {
    this.server = await startEventsServer(options);
    return this.server;
  }

  mountAt(state: MountState): TempMount {
    this.mount = createTempMount(state);
    return this.mount;
  }

  /** createNode: waits for `ready`. */
  async create(settings: LiteFSSettings, options: OpenNodeOptions): Promise<LiteFSNode> {
    this.node = await createNode(settings, options);
    return this.node;
  }

  /** openNode: returns at once, before the stream is up. */
  open(settings: LiteFSSettings, options: OpenNodeOptions): LiteFSNode {
    this.node = openNode(settings, options);
    return this.node;
  }

  async closeAll(): Promise<void> {
    await this.node?.close();
    this.node = undefined;
    await this.server?.close();
    this.server = undefined;
    this.mount?.cleanup();
    this.mount = undefined;
  }
}
