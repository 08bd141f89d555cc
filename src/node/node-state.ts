// What this node believes right now, and the WriteGate that reads it.
//
// Two sources of LiteFS's view: the /events stream (pushed; while it has delivered `init` on the
// current connection, the gate answers from memory with no I/O at all) and the mount files
// (pulled while the stream is down). Every observed view is judged against the election; changes
// are announced (role-change), and split brain is announced once per episode (an episode ends
// when a non-split-brain view is observed).
//
// The file-fallback verdict cache. Through LiteFS's FUSE mount a check that reads the files costs
// about 380 µs (stat of the absent `.primary` 73-84 µs, `.lag` about 300 µs: litefs-contract.md),
// more than a whole SQLite write, so a WRITABLE verdict read from the files is reused for at most
// `fileGateCacheMs` (default 50 ms), and never past the election's own deadline. Why that cannot
// let a write land on a node that is not the primary:
// - The files only mirror LiteFS's own state, and every write reaches LiteFS, which judges it by
//   its state at that moment: never older than our reading of the files. A LiteFS that is no
//   longer primary refuses the write itself (SQLITE_IOERR_WRITE; inside a transaction at COMMIT;
//   litefs-contract.md "Writes on a replica"), and the driver translates that refusal after
//   reading the files afresh (`invalidate()`). So within the bound, a stale "primary" changes
//   which error the application gets (LiteFS's, translated, instead of the gate's), not what lands.
// - What the gate knows that LiteFS does not is the election: split brain, where LiteFS believes
//   it is primary and the election disagrees (then LiteFS would accept the write). That half is
//   never served from the cache: an election change re-judges at once (subscribe -> reevaluate,
//   which drops the cache), and a lease deadline ends the cached verdict (writableUntilMs caps it).
// - Only WRITABLE is cached; refusals are read afresh every time, and any read of the files that
//   finds this node not writable (the background poll too) drops the cache.
// The bound, stated: a write may pass the gate up to `fileGateCacheMs` after LiteFS's files
// stopped saying "primary", and LiteFS itself refuses it. For comparison, the events-fed gate
// answers from memory updated only when the event loop runs: inside a synchronous write loop its
// answer is as old as the loop, with no bound at all. Anything new that closes the gate must
// go through reevaluate() or invalidate(), so that the cache cannot outlive it.
import type { NotPrimaryError, SplitBrainError } from "../errors.js";
import { sameView, type LiteFSView } from "../litefs/view.js";
import type { WriteGate } from "./gate.js";
import type { ElectionView } from "../election/election-view.js";
import { judge, verdictError, WRITABLE, type Verdict } from "./verdict.js";

/** "unknown": the node cannot tell (no LiteFS mount, unreadable or malformed files, its LiteFS down). */
export type Role = "primary" | "replica" | "unknown";

export interface NodeStateSnapshot {
  readonly role: Role;
  /** The primary's hostname (this node's id when it is primary), null when none is known. */
  readonly primary: string | null;
  readonly splitBrain: boolean;
  readonly source: "events" | "files" | "dev";
}

export interface NodeStateHooks {
  roleChange(snapshot: NodeStateSnapshot, previous: NodeStateSnapshot | null): void;
  /** A split-brain episode began. */
  splitBrain(error: SplitBrainError): void;
  /** The split-brain episode ended. */
  splitBrainResolved(snapshot: NodeStateSnapshot): void;
}

/** Default of OpenNodeOptions.fileGateCacheMs: see "the file-fallback verdict cache" above. */
const DEFAULT_FILE_GATE_CACHE_MS = 50;

export interface Judged {
  readonly view: LiteFSView;
  readonly verdict: Verdict;
  readonly source: "events" | "files";
}

export class NodeState {
  private eventsView: LiteFSView | null = null;
  private eventsVerdict: Verdict = WRITABLE;
  private lastView: LiteFSView | null = null;
  private lastVerdict: Verdict = WRITABLE;
  /** performance.now() after which a WRITABLE verdict must be judged again (lease deadlines). */
  private verdictExpiresAt = Infinity;
  /** performance.now() until which a WRITABLE verdict read from the files is reused; 0 = none. */
  private filesWritableUntil = 0;
  private lastSnapshot: NodeStateSnapshot | null = null;
  private inSplitBrain = false;
  private readonly unsubscribeElection: (() => void) | undefined;

  /** The gate the driver holds. Bound once: `assertWritable` can be passed around detached. */
  readonly gate: WriteGate;

  constructor(
    private readonly nodeId: string | null,
    private readonly election: ElectionView,
    private readonly readFiles: () => LiteFSView,
    private readonly hooks: NodeStateHooks,
    /** How long a WRITABLE verdict read from the files is reused (ms); 0 reads them on every check. */
    private readonly fileGateCacheMs: number = DEFAULT_FILE_GATE_CACHE_MS,
  ) {
    if (!Number.isFinite(fileGateCacheMs) || fileGateCacheMs < 0) {
      throw new TypeError(
        `fileGateCacheMs must be a non-negative number of milliseconds, got ${String(fileGateCacheMs)}`,
      );
    }
    const assertWritable = (): void => {
      // Hot path. Events connected: one identity comparison, no I/O, no allocation (plus a clock
      // read when the election bounds the verdict in time, as raft mode's lease deadline does).
      // Files: a clock read while the cached WRITABLE verdict is young, else the files.
      if (this.eventsView !== null && this.verdictExpired()) this.reevaluate();
      const verdict = this.eventsView !== null ? this.eventsVerdict : this.filesVerdict();
      if (verdict !== WRITABLE) throw this.refusal(verdict);
    };
    const invalidate = (): void => {
      this.filesWritableUntil = 0;
    };
    this.gate = Object.freeze({ assertWritable, invalidate });
    this.unsubscribeElection = election.subscribe?.(() => this.reevaluate());
  }

  /** True while answers come from the /events stream (no file I/O). */
  get fromEvents(): boolean {
    return this.eventsView !== null;
  }

  /** Mirror LiteFS's view pushed by /events; null when the stream is down (fall back to files). */
  setEventsView(view: LiteFSView | null): void {
    this.filesWritableUntil = 0;
    if (view === null) {
      this.eventsView = null;
      this.judgeFiles();
      return;
    }
    this.eventsView = view;
    this.eventsVerdict = this.observe(view, "events");
  }

  /** The current view and verdict, from memory while events are connected, else from the files. */
  current(): Judged {
    if (this.eventsView !== null) return { view: this.eventsView, verdict: this.eventsVerdict, source: "events" };
    return this.judgeFiles();
  }

  /** Snapshot of the current state (reads the files when events are not connected). */
  snapshot(): NodeStateSnapshot {
    const judged = this.current();
    return this.snapshotOf(judged.view, judged.verdict, judged.source);
  }

  /** The error a write would get now, or null when writable. */
  refusalNow(): NotPrimaryError | SplitBrainError | null {
    const { verdict } = this.current();
    return verdict === WRITABLE ? null : this.refusal(verdict);
  }

  dispose(): void {
    this.unsubscribeElection?.();
  }

  private judgeFiles(): Judged {
    const view = this.readFiles();
    const verdict = this.observe(view, "files");
    if (verdict !== WRITABLE) this.filesWritableUntil = 0;
    return { view, verdict, source: "files" };
  }

  /** The gate's answer while /events is down: the cached WRITABLE verdict while young, else the files. */
  private filesVerdict(): Verdict {
    if (this.filesWritableUntil !== 0 && performance.now() < this.filesWritableUntil) return WRITABLE;
    const verdict = this.judgeFiles().verdict;
    if (verdict === WRITABLE && this.fileGateCacheMs > 0) {
      this.filesWritableUntil = Math.min(performance.now() + this.fileGateCacheMs, this.verdictExpiresAt);
    }
    return verdict;
  }

  /** The election changed its mind: judge the last view again. */
  private reevaluate(): void {
    this.filesWritableUntil = 0;
    this.lastView = null; // the cached verdict was judged against the old election view
    if (this.eventsView !== null) this.eventsVerdict = this.observe(this.eventsView, "events");
    else this.judgeFiles();
  }

  private refusal(verdict: Verdict): NotPrimaryError | SplitBrainError {
    return verdictError(verdict, this.nodeId);
  }

  private observe(view: LiteFSView, source: "events" | "files"): Verdict {
    // Same view as last time (the common case on every write while reading files): nothing to do.
    if (this.lastView !== null && sameView(this.lastView, view) && !this.verdictExpired()) return this.lastVerdict;
    const verdict = judge(view, this.election);
    this.lastView = view;
    this.lastVerdict = verdict;
    this.verdictExpiresAt =
      verdict === WRITABLE && this.election.writableUntilMs ? this.election.writableUntilMs(view) : Infinity;
    const snapshot = this.snapshotOf(view, verdict, source);
    const previous = this.lastSnapshot;
    this.lastSnapshot = snapshot;
    if (verdict.kind === "split-brain" && !this.inSplitBrain) {
      this.inSplitBrain = true;
      this.hooks.splitBrain(verdictError(verdict, this.nodeId));
    } else if (verdict.kind !== "split-brain" && this.inSplitBrain) {
      this.inSplitBrain = false;
      this.hooks.splitBrainResolved(snapshot);
    }
    if (
      !previous ||
      previous.role !== snapshot.role ||
      previous.primary !== snapshot.primary ||
      previous.splitBrain !== snapshot.splitBrain
    ) {
      this.hooks.roleChange(snapshot, previous);
    }
    return verdict;
  }

  private verdictExpired(): boolean {
    return this.verdictExpiresAt !== Infinity && performance.now() >= this.verdictExpiresAt;
  }

  private snapshotOf(view: LiteFSView, verdict: Verdict, source: "events" | "files"): NodeStateSnapshot {
    const role: Role = view.kind === "primary" ? "primary" : view.kind === "unknown" ? "unknown" : "replica";
    const primary = view.kind === "primary" ? this.nodeId : view.kind === "replica" ? view.primary : null;
    return Object.freeze({ role, primary, splitBrain: verdict.kind === "split-brain", source });
  }
}
