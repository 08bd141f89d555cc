// A fault-injecting TCP proxy for real-process Raft tests.
//
// One listener per DIRECTED link ("n1->n2"): n1 is configured to reach n2 at this link's port,
// and the link forwards to n2's real listener. Because the Raft transport sends n1->n2 traffic
// only on the connection n1 dials, faults on "n1->n2" affect exactly that direction, which gives
// one-way partitions for free.
//
// The proxy understands TLS records (the transport is TLS 1.3 PSK) and acts on WHOLE records:
//   cut   - blackhole: connections stay up, nothing gets through (a partition, not a reset)
//   loss  - with this probability a record is "lost" and retransmitted: delivered RETRANSMIT_MS
//           late, holding back the records behind it (what TCP makes of packet loss)
//   reset - with this probability per record, the connection is reset (TLS cannot skip a record)
//   delay - each record is delivered this many ms later, order preserved

import { connect, createServer, type Server, type Socket } from "node:net";

export interface LinkFaults {
  readonly cut: boolean;
  readonly loss: number;
  readonly reset: number;
  readonly delayMs: number;
}

const HEALTHY: LinkFaults = { cut: false, loss: 0, reset: 0, delayMs: 0 };
/** TCP's minimum retransmission timeout on Linux. */
const RETRANSMIT_MS = 200;
const TLS_HEADER = 5;
const MAX_RECORD = TLS_HEADER + (1 << 14) + 256; // TLS 1.3: 2^14 bytes of plaintext + AEAD overhead

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

  // The transport is TLS 1.3, so the proxy works on whole TLS records (5-byte header: type,
  // version, 16-bit length). TLS cannot lose a record and go on (the next one fails to decrypt),
  // so a lost packet shows up as a retransmission delay with head-of-line blocking ("loss"), and
  // only "reset" breaks the connection; a cut link's records are swallowed. After a reset or a
  // cut the transport must reconnect on its own.
  private pipe(link: Link, from: Socket, to: Socket, closeBoth: () => void): void {
    let pending: Buffer = Buffer.alloc(0);
    let lastDelivery = 0;
    from.on("data", (chunk: Buffer) => {
      pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
      while (pending.length >= TLS_HEADER) {
        const size = TLS_HEADER + pending.readUInt16BE(3);
        if (size > MAX_RECORD) {
          closeBoth();
          return;
        }
        if (pending.length < size) break;
        const record = pending.subarray(0, size);
        pending = pending.subarray(size);
        const f = link.faults;
        if (f.cut) continue;
        if (f.reset > 0 && Math.random() < f.reset) {
          closeBoth();
          return;
        }
        const lateMs = f.delayMs + (f.loss > 0 && Math.random() < f.loss ? RETRANSMIT_MS : 0);
        if (lateMs <= 0 && lastDelivery <= Date.now()) {
          to.write(record);
          continue;
        }
        const at = Math.max(Date.now() + lateMs, lastDelivery);
        lastDelivery = at;
        const copy = Buffer.from(record);
        setTimeout(() => {
          if (!to.destroyed) to.write(copy);
        }, at - Date.now());
      }
    });
  }
}
