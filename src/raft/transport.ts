// What the node runner needs from a network. Implementations: the authenticated TCP transport
// (transport-tcp.ts, TLS-PSK) for real nodes; tests and the simulator plug in their own.

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
  | {
      readonly type: "disconnected";
      readonly peer: NodeId | null;
      readonly direction: "in" | "out";
      readonly reason: string;
    }
  | { readonly type: "rejected"; readonly remote: string; readonly reason: string }
  /**
   * A member refused the handshake or was refused, with a reason meant for the operator (another
   * protocol version, another cluster, re-created storage). `fatal`: this member must stop, its
   * peers will never accept it (its storage was re-created after it had joined).
   */
  | {
      readonly type: "refused";
      readonly peer: string;
      readonly direction: "in" | "out";
      readonly reason: string;
      readonly fatal: boolean;
    }
  | { readonly type: "dropped"; readonly peer: NodeId; readonly count: number; readonly reason: string };
