// A node's simulated disk: writes land in a page cache (`pending`) and become durable only on
// sync; a crash drops everything not yet synced. The "written" view (durable + pending) is what
// the running node sees; the durable view is what a restart sees.
import type { Entry, HardState, Snapshot } from "../../src/raft/types.js";

export interface DiskState {
  hardState: HardState;
  snapshot: Snapshot | null;
  entries: Entry[];
}

export interface DiskWrite {
  readonly hardState: HardState | null;
  readonly snapshot: Snapshot | null;
  readonly entries: readonly Entry[];
}

export class SimDisk {
  durable: DiskState = { hardState: { term: 0, vote: null, commit: 0 }, snapshot: null, entries: [] };
  private pending: DiskWrite[] = [];

  write(w: DiskWrite): void {
    this.pending.push(w);
  }

  hasPending(): boolean {
    return this.pending.length > 0;
  }

  sync(): void {
    for (const w of this.pending) applyWrite(this.durable, w);
    this.pending = [];
  }

  crash(): void {
    this.pending = [];
  }

  /** Compaction is an atomic durable write (temp file + rename + fsync in the real storage). */
  compact(snapshot: Snapshot): void {
    this.sync();
    this.durable.snapshot = snapshot;
    this.durable.entries = this.durable.entries.filter((e) => e.index > snapshot.meta.index);
  }

  durableLastIndex(): number {
    const e = this.durable.entries;
    return e[e.length - 1]?.index ?? this.durable.snapshot?.meta.index ?? 0;
  }

  /** Term of the durable entry at `index` (snapshot boundary included), or undefined. */
  durableTerm(index: number): number | undefined {
    const s = this.durable.snapshot;
    if (s && index === s.meta.index) return s.meta.term;
    const first = this.durable.entries[0];
    if (!first || index < first.index) return undefined;
    return this.durable.entries[index - first.index]?.term;
  }
}

function applyWrite(d: DiskState, w: DiskWrite): void {
  if (w.snapshot) {
    d.snapshot = w.snapshot;
    d.entries = []; // an installed snapshot replaces the whole log
  }
  const first = w.entries[0];
  if (first) {
    const keep = d.entries.filter((e) => e.index < first.index);
    d.entries = keep.concat(w.entries);
  }
  if (w.hardState) d.hardState = w.hardState;
}
