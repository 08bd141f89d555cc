// A fault-injecting TCP proxy for real-process Raft tests.
//
// One listener per DIRECTED link ("n1->n2"): n1 is configured to reach n2 at this link's port,
// and the link forwards to n2's real listener. Because the Raft transport sends n1->n2 traffic
// only on the connection n1 dials, faults on "n1->n2" affect exactly that direction, which gives
// one-way partitions for free.
//
// The proxy understands the transport's length-prefixed frames and drops or delays WHOLE frames
// (never half a frame, which would only look like corruption and kill the connection):
//   cut   - blackhole: connections stay up, nothing gets through (a partition, not a reset)
//   drop  - each frame is lost with this probability
//   delay - each frame is delivered this many ms later, order preserved

import { connect, createServer, type Server, type Socket } from "node:net";
import { frame, FrameDecoder } from "../../../src/election/raft/transport-frame.js";

export interface LinkFaults {
  readonly cut: boolean;
  readonly drop: number;
  readonly delayMs: number;
}

const HEALTHY: LinkFaults = { cut: false, drop: 0, delayMs: 0 };
const MAX_FRAME = 128 << 20;

class Link {
  faults: LinkFaults = HEALTHY;
  target: number | null = null;
  readonly sockets = new Set<Socket>();
  port = 0;

  constructor(
    readonly name: string,
    readonly server: Server,
  ) {}
}

export class FaultProxy {
  private readonly links = new Map<string, Link>();
  private closed = false;

  /** Creates the listener of a directed link ("a->b") and returns its port. */
  async addLink(name: string): Promise<number> {
    const server = createServer((client) => this.accept(link, client));
    const link = new Link(name, server);
    this.links.set(name, link);
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
    const a = server.address();
    link.port = a && typeof a === "object" ? a.port : 0;
    return link.port;
  }

  port(name: string): number {
    return this.link(name).port;
  }

  /** Where the link forwards to (null: refuse connections, as if the node were down). */
  setTarget(name: string, port: number | null): void {
    this.link(name).target = port;
  }

  setFaults(name: string, faults: Partial<LinkFaults>): void {
    const l = this.link(name);
    l.faults = { ...l.faults, ...faults };
  }

  /** Applies faults to every link whose name matches. */
  setFaultsWhere(match: (name: string) => boolean, faults: Partial<LinkFaults>): void {
    for (const name of this.links.keys()) if (match(name)) this.setFaults(name, faults);
  }

  heal(): void {
    for (const l of this.links.values()) l.faults = HEALTHY;
  }

  /** Drops every connection currently going through links to `node` (e.g. when it is killed). */
  resetConnectionsTo(node: string): void {
    for (const l of this.links.values()) {
      if (l.name.endsWith(`->${node}`)) for (const s of l.sockets) s.destroy();
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(
      [...this.links.values()].map(
        (l) =>
          new Promise<void>((resolve) => {
            for (const s of l.sockets) s.destroy();
            l.server.close(() => resolve());
          }),
      ),
    );
  }

  private link(name: string): Link {
    const l = this.links.get(name);
    if (!l) throw new Error(`proxy has no link "${name}"`);
    return l;
  }

  private accept(link: Link, client: Socket): void {
    if (this.closed || link.target === null) {
      client.destroy();
      return;
    }
    const upstream = connect({ host: "127.0.0.1", port: link.target });
    link.sockets.add(client);
    link.sockets.add(upstream);
    const closeBoth = (): void => {
      client.destroy();
      upstream.destroy();
      link.sockets.delete(client);
      link.sockets.delete(upstream);
    };
    client.on("error", closeBoth);
    upstream.on("error", closeBoth);
    client.on("close", closeBoth);
    upstream.on("close", closeBoth);
    this.pipe(link, client, upstream, closeBoth);
    this.pipe(link, upstream, client, closeBoth);
  }

  private pipe(link: Link, from: Socket, to: Socket, closeBoth: () => void): void {
    const decoder = new FrameDecoder(MAX_FRAME);
    let lastDelivery = 0;
    from.on("data", (chunk: Buffer) => {
      let bodies: Buffer[];
      try {
        bodies = decoder.push(chunk);
      } catch {
        closeBoth();
        return;
      }
      for (const body of bodies) {
        const f = link.faults;
        if (f.cut || (f.drop > 0 && Math.random() < f.drop)) continue;
        const bytes = frame(body);
        if (f.delayMs <= 0 && lastDelivery <= Date.now()) {
          to.write(bytes);
          continue;
        }
        const at = Math.max(Date.now() + f.delayMs, lastDelivery);
        lastDelivery = at;
        setTimeout(() => {
          if (!to.destroyed) to.write(bytes);
        }, at - Date.now());
      }
    });
  }
}
