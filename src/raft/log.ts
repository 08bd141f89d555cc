// The in-memory Raft log of one node: a snapshot boundary, the entries after it, and the
// commit/applied/durable cursors. Storage is outside the core: the log only remembers which
// suffix has not yet been handed out as durable (`stableNext`) so Ready can carry it.
import { RaftInvariantError, RaftUsageError } from "./errors.js";
import type { Entry, Snapshot } from "./types.js";

export class RaftLog {
  /** Index and term of the last entry folded into the snapshot (0/0 when none). */
  private snapIndex = 0;
  private snapTerm = 0;
  /** The latest snapshot, kept to send to followers that need compacted entries. */
  private snap: Snapshot | null = null;
  /** A snapshot received from the leader that is not durable yet (Ready.snapshot). */
  private unstableSnap: Snapshot | null = null;
  /** entries[k].index === snapIndex + 1 + k */
  private entries: Entry[] = [];
  /** First index whose entry has not been reported durable by advance(). */
  private stableNext = 1;
  committed = 0;
  applied = 0;

  static restore(snapshot: Snapshot | null, entries: readonly Entry[], commit: number): RaftLog {
    const log = new RaftLog();
    if (snapshot) {
      log.snap = snapshot;
      log.snapIndex = snapshot.meta.index;
      log.snapTerm = snapshot.meta.term;
    }
    let expected = log.snapIndex + 1;
    for (const e of entries) {
      if (e.index < expected) continue; // already inside the snapshot
      if (e.index !== expected) {
        throw new RaftUsageError(
          `restore: log entries are not contiguous (expected index ${expected}, got ${e.index})`,
        );
      }
      log.entries.push(e);
      expected++;
    }
    log.stableNext = log.lastIndex() + 1;
    log.applied = log.snapIndex;
    log.committed = Math.max(commit, log.snapIndex);
    if (log.committed > log.lastIndex()) {
      throw new RaftUsageError(
        `restore: hard state commit ${commit} is past the last stored entry ${log.lastIndex()} (log tail lost?)`,
      );
    }
    return log;
  }

  firstIndex(): number {
    return this.snapIndex + 1;
  }

  lastIndex(): number {
    return this.snapIndex + this.entries.length;
  }

  lastTerm(): number {
    return this.term(this.lastIndex()) ?? 0;
  }

  snapshotIndex(): number {
    return this.snapIndex;
  }

  /** Term of the entry at `i`; undefined when compacted away or beyond the end. */
  term(i: number): number | undefined {
    if (i === this.snapIndex) return this.snapTerm;
    if (i < this.snapIndex || i > this.lastIndex()) return undefined;
    return this.entries[i - this.snapIndex - 1]?.term;
  }

  entry(i: number): Entry | undefined {
    if (i <= this.snapIndex) return undefined;
    return this.entries[i - this.snapIndex - 1];
  }

  matchTerm(i: number, t: number): boolean {
    return this.term(i) === t;
  }

  /** Election restriction: is (index, term) at least as up to date as our last entry? */
  isUpToDate(index: number, term: number): boolean {
    const lt = this.lastTerm();
    return term > lt || (term === lt && index >= this.lastIndex());
  }

  /** Entries [lo, hi), lo >= firstIndex. */
  slice(lo: number, hi: number): Entry[] {
    if (lo <= this.snapIndex) throw new RaftUsageError(`slice(${lo}): entries up to ${this.snapIndex} are compacted`);
    return this.entries.slice(lo - this.snapIndex - 1, Math.max(0, hi - this.snapIndex - 1));
  }

  allEntries(): readonly Entry[] {
    return this.entries;
  }

  latestSnapshot(): Snapshot | null {
    return this.snap;
  }

  /** Index of the first entry that conflicts with (or extends) our log, or 0 when all match. */
  findConflict(ents: readonly Entry[]): number {
    for (const e of ents) {
      if (e.index <= this.snapIndex) continue; // compacted entries are committed, hence equal
      if (!this.matchTerm(e.index, e.term)) return e.index;
    }
    return 0;
  }

  /** Append, replacing everything from ents[0].index on. Never called for committed indexes. */
  append(ents: readonly Entry[]): void {
    const first = ents[0];
    if (!first) return;
    if (first.index > this.lastIndex() + 1) {
      throw new RaftUsageError(`append at ${first.index} leaves a gap after ${this.lastIndex()}`);
    }
    if (first.index <= this.committed) {
      throw new RaftInvariantError(`refusing to overwrite committed entry ${first.index} (commit ${this.committed})`);
    }
    this.entries.length = first.index - this.snapIndex - 1;
    for (const e of ents) this.entries.push(e);
    this.stableNext = Math.min(this.stableNext, first.index);
  }

  commitTo(i: number): boolean {
    if (i <= this.committed) return false;
    if (i > this.lastIndex()) throw new RaftInvariantError(`commit ${i} past last index ${this.lastIndex()}`);
    this.committed = i;
    return true;
  }

  /** Entries not yet reported durable (Ready.entries). */
  unstableEntries(): Entry[] {
    const from = Math.max(this.stableNext, this.snapIndex + 1);
    return from > this.lastIndex() ? [] : this.slice(from, this.lastIndex() + 1);
  }

  /** Last index known durable (for the leader's own vote in the commit count). */
  stableLastIndex(): number {
    return Math.min(this.stableNext - 1, this.lastIndex());
  }

  /**
   * advance(): entries up to (index, term) are durable. Ignored when the log changed in between
   * (a truncation replaced that entry: the new one is reported by a later Ready).
   */
  stableTo(index: number, term: number): void {
    if (this.matchTerm(index, term) && index >= this.stableNext - 1) this.stableNext = index + 1;
  }

  pendingSnapshot(): Snapshot | null {
    return this.unstableSnap;
  }

  /** Install a leader's snapshot: the log restarts after it (entries are not applied, the state is). */
  restoreSnapshot(s: Snapshot): void {
    this.snap = s;
    this.unstableSnap = s;
    this.snapIndex = s.meta.index;
    this.snapTerm = s.meta.term;
    this.entries = [];
    this.committed = s.meta.index;
    this.stableNext = s.meta.index + 1;
  }

  snapshotStable(index: number): void {
    if (this.unstableSnap && this.unstableSnap.meta.index === index) {
      this.unstableSnap = null;
      this.applied = Math.max(this.applied, index);
    }
  }

  /** Committed entries not yet handed out for applying (none while a snapshot awaits restore). */
  nextCommittedEntries(): Entry[] {
    if (this.unstableSnap) return [];
    const lo = Math.max(this.applied + 1, this.snapIndex + 1);
    return lo > this.committed ? [] : this.slice(lo, this.committed + 1);
  }

  appliedTo(i: number): void {
    if (i > this.committed) throw new RaftUsageError(`applied ${i} past commit ${this.committed}`);
    this.applied = Math.max(this.applied, i);
  }

  /**
   * Fold entries up to `index` (applied) into a snapshot carrying `data`. Returns null when the
   * log is already compacted that far (e.g. a leader's snapshot arrived meanwhile): nothing to do.
   */
  compact(index: number, data: Uint8Array, voters: readonly string[]): Snapshot | null {
    if (index <= this.snapIndex) return null;
    if (index > this.applied) {
      throw new RaftUsageError(`compact(${index}): only entries up to applied index ${this.applied} may be compacted`);
    }
    const term = this.term(index);
    if (term === undefined) throw new RaftUsageError(`compact(${index}): no entry at that index`);
    const s: Snapshot = { meta: { index, term, voters: [...voters] }, data };
    this.entries = this.entries.slice(index - this.snapIndex);
    this.snapIndex = index;
    this.snapTerm = term;
    this.snap = s;
    return s;
  }
}
