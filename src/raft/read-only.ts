// Pending ReadIndex requests on a leader: each waits for a heartbeat quorum that was sent after
// it was registered. An ack for one request confirms every request queued before it too.
import { majority } from "./quorum.js";
import type { NodeId } from "./types.js";

export interface PendingRead {
  readonly index: number;
  readonly ctx: Uint8Array;
  readonly from: NodeId;
  readonly acks: Set<NodeId>;
}

function contextKey(ctx: Uint8Array): string {
  return Buffer.from(ctx.buffer, ctx.byteOffset, ctx.byteLength).toString("hex");
}

export class ReadOnlyQueue {
  private queue: { key: string; read: PendingRead }[] = [];
  private byKey = new Map<string, PendingRead>();

  add(index: number, ctx: Uint8Array, from: NodeId, self: NodeId): boolean {
    const key = contextKey(ctx);
    if (this.byKey.has(key)) return false; // duplicate context: already waiting
    const read: PendingRead = { index, ctx, from, acks: new Set([self]) };
    this.queue.push({ key, read });
    this.byKey.set(key, read);
    return true;
  }

  /** Record an ack; returns the reads now confirmed by a quorum (in request order), removing them. */
  recvAck(from: NodeId, ctx: Uint8Array, voterCount: number): PendingRead[] {
    const key = contextKey(ctx);
    const read = this.byKey.get(key);
    if (!read) return [];
    read.acks.add(from);
    if (read.acks.size < majority(voterCount)) return [];
    const pos = this.queue.findIndex((q) => q.key === key);
    const done = this.queue.splice(0, pos + 1);
    for (const d of done) this.byKey.delete(d.key);
    return done.map((d) => d.read);
  }

  lastPendingContext(): Uint8Array | null {
    return this.queue[this.queue.length - 1]?.read.ctx ?? null;
  }

  size(): number {
    return this.queue.length;
  }

  reset(): void {
    this.queue = [];
    this.byKey.clear();
  }
}
