// Admission control for the Raft and lease-forward listeners: strangers cannot crowd members out.
//
// Every accepted socket takes a slot until it is released (closed). Limits:
// - per source address: at most `perSource` at once, so one host cannot take every slot;
// - in total: at most `total`, of which `reservedForPeers` only for sources that are members'
//   addresses (resolved from raft.selfAddr / raft.peers), so a flood from other hosts still leaves
//   room for a member to (re)connect.
// The listeners add a short handshake deadline (about 1 s), so a slot held by an idle stranger
// is freed quickly; a member's authenticated connection keeps its slot.

import { lookup } from "node:dns/promises";
import type { Socket } from "node:net";

export interface ConnectionGateOptions {
  readonly total: number;
  readonly perSource: number;
  readonly reservedForPeers: number;
  /** The host of every member (name or IP), resolved on refresh(). */
  readonly memberHosts: readonly string[];
}

/** "::ffff:10.0.0.1" and "10.0.0.1" are one source. */
function normalizeAddress(address: string | undefined): string {
  if (!address) return "unknown";
  return address.startsWith("::ffff:") && address.includes(".") ? address.slice(7) : address;
}

export class ConnectionGate {
  private readonly perSource = new Map<string, number>();
  private open = 0;
  private memberAddresses = new Set<string>();

  constructor(private readonly options: ConnectionGateOptions) {}

  /** Resolves the members' hosts (hostnames may move between restarts; call again to refresh). */
  async refresh(): Promise<void> {
    const next = new Set<string>();
    for (const host of this.options.memberHosts) {
      try {
        for (const a of await lookup(host, { all: true })) next.add(normalizeAddress(a.address));
      } catch {
        // Unresolvable now (a member not started yet): it gets the common slots until the next refresh.
      }
    }
    this.memberAddresses = next;
  }

  isMember(address: string): boolean {
    return this.memberAddresses.has(address);
  }

  /**
   * Takes a slot for `socket` (released when it closes) or returns why not. The caller destroys
   * a refused socket at once.
   */
  admit(socket: Socket): string | null {
    const source = normalizeAddress(socket.remoteAddress);
    const used = this.perSource.get(source) ?? 0;
    if (used >= this.options.perSource) return `too many connections from ${source} (${used})`;
    const limit = this.isMember(source) ? this.options.total : this.options.total - this.options.reservedForPeers;
    if (this.open >= limit) return `connection limit reached (${this.open} open)`;
    this.open++;
    this.perSource.set(source, used + 1);
    socket.once("close", () => {
      this.open--;
      const n = (this.perSource.get(source) ?? 1) - 1;
      if (n === 0) this.perSource.delete(source);
      else this.perSource.set(source, n);
    });
    return null;
  }

  get openConnections(): number {
    return this.open;
  }
}
