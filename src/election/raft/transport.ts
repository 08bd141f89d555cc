// What the node runner needs from a network. Implementations: the authenticated TCP transport
// (transport-tcp.ts) for real nodes; tests and the simulator plug in their own.

import type { Message, NodeId } from "./types.js";

export interface RaftTransport {
  /**
   * Queue messages for delivery. Never throws for a down or unknown peer and never blocks:
   * Raft tolerates lost messages, so a transport may drop them (and says so via its events).
   */
  send(messages: readonly Message[]): void;
  /** The single receiver of authenticated, decoded messages addressed to this node. */
  setHandler(handler: (message: Message) => void): void;
  close(): Promise<void>;
}

/** Observability hooks: connection changes and everything dropped, with the reason. */
export type TransportEvent =
  | { readonly type: "connected"; readonly peer: NodeId; readonly direction: "in" | "out" }
  | { readonly type: "disconnected"; readonly peer: NodeId | null; readonly direction: "in" | "out"; readonly reason: string }
  | { readonly type: "rejected"; readonly remote: string; readonly reason: string }
  | { readonly type: "dropped"; readonly peer: NodeId; readonly count: number; readonly reason: string };
