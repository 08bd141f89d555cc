// Durable Raft storage in one directory:
//
//   identity.json  node id + cluster id, written once at bootstrap (see storage-identity.ts)
//   lock           held for the life of the storage (see storage-lock.ts)
//   hardstate      term, vote, commit, and the bounds of what is durable: the last log index and
//                  term, the snapshot index and term (atomic replace: temp + fsync + rename + dir fsync)
//   snapshot       latest snapshot         (atomic replace)
//   log            entries after the snapshot (append-only, CRC'd records; see storage-log.ts)
//
// Every method is synchronous and durable when it returns, so a caller that persists and then
// sends cannot send early. Write order inside `save`: hard state (when term or vote change),
// snapshot, entries, then the hard state again with the new log bounds.
//
// Never forgetting: bootstrap writes hardstate and an empty log before identity.json, so once the
// identity exists every file that should exist does, and a missing one is refused. The recorded
// bounds are a floor on what the files must hold: raised only after the log grew (fsynced), and
// lowered before the log shrinks (conflict truncation, a leader's snapshot). Every ack leaves only
// after `save` returns, so everything acknowledged is at or below the recorded bounds, and a log
// or snapshot that falls short of them lost acknowledged data: open refuses instead of guessing.
// Records after the recorded last index were never acknowledged: a damaged one there is a torn
// tail from a crash and is dropped.
//
// The commit index is persisted lazily: the hard-state file is rewritten when term, vote or the
// log bounds change, and otherwise the latest commit is written at compaction and close. A stale
// commit on restart is safe: commit is only knowledge, and the leader re-teaches it.

import { mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { ByteReader, ByteWriter, RaftCodecError } from "./bytes.js";
import { readSnapshot, writeSnapshot } from "./codec.js";
import {
  fsyncDir,
  readFileIfExists,
  removeIfExists,
  sealFile,
  tempPathFor,
  unsealFile,
  writeFileAtomicSync,
} from "./storage-files.js";
import { RaftStorageError, RECOVERY } from "./storage-errors.js";
import {
  IDENTITY_FILE,
  listDir,
  mismatchError,
  missingStorageError,
  newIncarnation,
  readIdentity,
  writeIdentity,
  type StorageIdentity,
} from "./storage-identity.js";
import { lockDirectory, type DirectoryLock } from "./storage-lock.js";
import { LogFile } from "./storage-log.js";
import type { Entry, HardState, NodeId, Snapshot } from "./types.js";

export { RaftStorageError, type RaftStorageErrorKind } from "./storage-errors.js";
export type { StorageIdentity } from "./storage-identity.js";

const HARD_STATE_FILE = "hardstate";
const SNAPSHOT_FILE = "snapshot";
const LOG_FILE = "log";
/** Version 1 held term, vote and commit only; still read, so an upgrade keeps its state. */
const HARD_STATE_MAGIC_V1 = "LRHS";
const HARD_STATE_MAGIC = "LRH2";
const SNAPSHOT_MAGIC = "LRSN";

export interface RaftStorageOptions {
  /** The Raft data directory (LITEFS_RAFT_DATA_DIR). */
  readonly dir: string;
  readonly nodeId: NodeId;
  readonly clusterId: string;
  /**
   * Accept a missing or empty directory and initialize it. It matters only for empty storage:
   * once the directory holds a member's identity the flag is ignored (as etcd ignores
   * --initial-cluster-state once a member has data), so a flag left on in the environment does
   * not stop restarts, and a member whose files were lost is still refused.
   */
  readonly bootstrap?: boolean;
  /** Non-fatal notes (a dropped torn tail, an ignored bootstrap flag). */
  readonly onWarning?: (message: string) => void;
}

export interface PersistedState {
  readonly hardState: HardState;
  /** Entries after the snapshot, consecutive. */
  readonly entries: readonly Entry[];
  readonly snapshot: Snapshot | null;
}

export interface StorageUpdate {
  readonly hardState: HardState | null;
  /** An entry at index i replaces everything stored from i on. */
  readonly entries: readonly Entry[];
  /** A snapshot received from the leader: replaces the whole log. */
  readonly snapshot: Snapshot | null;
}

export interface RaftStorage {
  readonly dir: string;
  readonly identity: StorageIdentity;
  /** What was on disk at open, after torn-tail repair. */
  readonly initial: PersistedState;
  /** Makes the update durable (fsync) before returning. */
  save(update: StorageUpdate): void;
  /** Persists a locally taken snapshot and drops the log up to its index (entries after it stay). */
  compact(snapshot: Snapshot): void;
  close(): void;
}

/** What the hard-state file records: Raft's hard state plus the bounds of the durable log. */
export interface DurableState extends HardState {
  readonly lastIndex: number;
  readonly lastTerm: number;
  readonly snapshotIndex: number;
  readonly snapshotTerm: number;
}

const EMPTY_DURABLE: DurableState = Object.freeze({
  term: 0,
  vote: null,
  commit: 0,
  lastIndex: 0,
  lastTerm: 0,
  snapshotIndex: 0,
  snapshotTerm: 0,
});
const RAFT_FILES = [HARD_STATE_FILE, SNAPSHOT_FILE, LOG_FILE];

export function openRaftStorage(options: RaftStorageOptions): RaftStorage {
  const { dir, nodeId, clusterId } = options;
  const warn = options.onWarning ?? (() => {});
  const listing = listDir(dir);
  if (listing === null && !options.bootstrap) throw missingStorageError(dir, nodeId, clusterId, "missing");
  if (listing === null) {
    mkdirSync(dir, { recursive: true });
    // Make the new directory's own entry durable too, not only the files inside it.
    fsyncDir(dirname(dir));
  }
  const lock = lockDirectory(dir);
  try {
    const identity = readIdentity(dir);
    if (identity === null) return bootstrap(options, lock, listing ?? []);
    if (identity.nodeId !== nodeId || identity.clusterId !== clusterId)
      throw mismatchError(dir, identity, nodeId, clusterId);
    if (options.bootstrap)
      warn(
        `Raft storage at ${dir} already belongs to this member (created ${identity.createdAt}): the bootstrap flag is ignored`,
      );
    return FileStorage.open(dir, identity, lock, warn);
  } catch (e) {
    lock.release();
    throw e;
  }
}

function bootstrap(options: RaftStorageOptions, lock: DirectoryLock, listing: readonly string[]): RaftStorage {
  const { dir, nodeId, clusterId } = options;
  const raftFiles = listing.filter((f) => RAFT_FILES.includes(f));
  // A bootstrap that crashed before writing identity.json leaves an empty hard state and log:
  // nothing was ever acknowledged from them, so finishing the bootstrap is safe.
  if (raftFiles.length > 0 && !(options.bootstrap && isUnfinishedBootstrap(dir))) {
    throw new RaftStorageError(
      "corrupt",
      `Raft storage at ${dir} has ${raftFiles.join(", ")} but no ${IDENTITY_FILE}: it was not created by this version or was damaged; refusing to guess which node it belongs to. ${RECOVERY}`,
    );
  }
  if (!options.bootstrap) throw missingStorageError(dir, nodeId, clusterId, "empty");
  writeFileAtomicSync(join(dir, HARD_STATE_FILE), encodeHardStateFile(EMPTY_DURABLE));
  writeFileAtomicSync(join(dir, LOG_FILE), new Uint8Array(0));
  removeIfExists(join(dir, SNAPSHOT_FILE));
  // Written last: its presence says every other file exists and must keep existing.
  writeIdentity(dir, { nodeId, clusterId, createdAt: new Date().toISOString(), incarnation: newIncarnation() });
  return FileStorage.open(dir, readIdentity(dir)!, lock, options.onWarning ?? (() => {}));
}

function isUnfinishedBootstrap(dir: string): boolean {
  try {
    const hs = readSealedHardState(join(dir, HARD_STATE_FILE));
    const log = readFileIfExists(join(dir, LOG_FILE));
    return (
      (hs === null || (hs.term === 0 && hs.vote === null && hs.lastIndex === 0)) &&
      (log === null || log.length === 0) &&
      readFileIfExists(join(dir, SNAPSHOT_FILE)) === null
    );
  } catch {
    return false;
  }
}

export function encodeHardState(hs: DurableState): Buffer {
  const w = new ByteWriter(96);
  w.u64(hs.term, "term")
    .u8(hs.vote === null ? 0 : 1)
    .str(hs.vote ?? "", 255, "vote")
    .u64(hs.commit, "commit");
  w.u64(hs.lastIndex, "lastIndex")
    .u64(hs.lastTerm, "lastTerm")
    .u64(hs.snapshotIndex, "snapshotIndex")
    .u64(hs.snapshotTerm, "snapshotTerm");
  return w.finish();
}

function encodeHardStateFile(hs: DurableState): Buffer {
  return sealFile(HARD_STATE_MAGIC, encodeHardState(hs));
}

/** Decodes version 2, or version 1 (`v1`: no bounds; the commit is the only known floor). */
export function decodeHardState(bytes: Uint8Array, v1 = false): DurableState {
  const r = new ByteReader(bytes, "hard state");
  const term = r.u64("term");
  const hasVote = r.u8("vote flag");
  const vote = r.str(255, "vote");
  const commit = r.u64("commit");
  const bounds = v1
    ? { lastIndex: commit, lastTerm: 0, snapshotIndex: 0, snapshotTerm: 0 }
    : {
        lastIndex: r.u64("lastIndex"),
        lastTerm: r.u64("lastTerm"),
        snapshotIndex: r.u64("snapshotIndex"),
        snapshotTerm: r.u64("snapshotTerm"),
      };
  r.end();
  if (hasVote > 1) throw new RaftCodecError(`hard state: bad vote flag ${hasVote}`);
  return { term, vote: hasVote ? vote : null, commit, ...bounds };
}

function readSealedHardState(path: string): DurableState | null {
  const file = readFileIfExists(path);
  if (file === null) return null;
  const v1 = file.toString("latin1", 0, 4) === HARD_STATE_MAGIC_V1;
  return decodeSealed(path, file, v1 ? HARD_STATE_MAGIC_V1 : HARD_STATE_MAGIC, (b) => decodeHardState(b, v1));
}

function decodeSealed<T>(path: string, file: Buffer, magic: string, decode: (b: Uint8Array) => T): T {
  const payload = unsealFile(magic, file);
  if (typeof payload === "string") {
    // Atomic rename means a torn metadata file is impossible; this is damage, and guessing a
    // default (term 0, no vote) would be exactly the unsafe restart we refuse elsewhere.
    throw new RaftStorageError("corrupt", `Raft storage file ${path} is damaged: ${payload}. ${RECOVERY}`);
  }
  try {
    return decode(payload);
  } catch (e) {
    throw new RaftStorageError(
      "corrupt",
      `Raft storage file ${path} does not decode: ${(e as Error).message}. ${RECOVERY}`,
    );
  }
}

function decodeSnapshotFile(b: Uint8Array): Snapshot {
  const r = new ByteReader(b, "snapshot file");
  const s = readSnapshot(r);
  r.end();
  return s;
}

function encodeSnapshotFile(s: Snapshot): Buffer {
  const w = new ByteWriter(s.data.length + 128);
  writeSnapshot(w, s);
  return sealFile(SNAPSHOT_MAGIC, w.finish());
}

function missingFileError(dir: string, file: string, why: string): RaftStorageError {
  return new RaftStorageError(
    "corrupt",
    `Raft storage file ${join(dir, file)} is missing, but ${why}: acknowledged Raft state is gone. ${RECOVERY}`,
  );
}

class FileStorage implements RaftStorage {
  /** What the hard-state file holds now (commit may lag, see the header). */
  private persisted: DurableState;
  /** Latest hard state given to us, including a commit not yet written. */
  private latest: HardState;
  private closed = false;

  private constructor(
    readonly dir: string,
    readonly identity: StorageIdentity,
    readonly initial: PersistedState,
    persisted: DurableState,
    private readonly log: LogFile,
    private readonly lock: DirectoryLock,
  ) {
    this.persisted = persisted;
    this.latest = initial.hardState;
  }

  static open(dir: string, identity: StorageIdentity, lock: DirectoryLock, warn: (m: string) => void): FileStorage {
    // Leftover temp files are writes that crashed before their rename: never valid, drop them.
    for (const f of RAFT_FILES) removeIfExists(tempPathFor(join(dir, f)));
    const stored = readSealedHardState(join(dir, HARD_STATE_FILE));
    if (stored === null)
      throw missingFileError(
        dir,
        HARD_STATE_FILE,
        `${IDENTITY_FILE} says this member was bootstrapped on ${identity.createdAt} (its vote and term lived there)`,
      );
    const snapshotFile = readFileIfExists(join(dir, SNAPSHOT_FILE));
    const snapshot =
      snapshotFile === null
        ? null
        : decodeSealed(join(dir, SNAPSHOT_FILE), snapshotFile, SNAPSHOT_MAGIC, decodeSnapshotFile);
    if (stored.snapshotIndex > 0 && (snapshot === null || snapshot.meta.index < stored.snapshotIndex)) {
      if (snapshot === null)
        throw missingFileError(
          dir,
          SNAPSHOT_FILE,
          `the hard state records a snapshot at index ${stored.snapshotIndex}`,
        );
      throw new RaftStorageError(
        "corrupt",
        `Raft snapshot ${join(dir, SNAPSHOT_FILE)} is at index ${snapshot.meta.index}, older than the snapshot at ${stored.snapshotIndex} the hard state records (an old copy was restored?). ${RECOVERY}`,
      );
    }
    if (readFileIfExists(join(dir, LOG_FILE)) === null)
      throw missingFileError(
        dir,
        LOG_FILE,
        `${IDENTITY_FILE} says this member was bootstrapped on ${identity.createdAt}`,
      );
    const snapIndex = snapshot?.meta.index ?? 0;
    const { log, entries, droppedTail } = LogFile.open(join(dir, LOG_FILE), snapIndex, stored.lastIndex);
    try {
      if (droppedTail) warn(`Raft log: ${droppedTail}`);
      const lastIndex = entries.length > 0 ? entries[entries.length - 1]!.index : snapIndex;
      const lastTerm = entries.length > 0 ? entries[entries.length - 1]!.term : (snapshot?.meta.term ?? 0);
      // The entry the hard state names as the last one must still carry its term: the same index
      // with another term means the log was swapped for another copy.
      const recordedTerm = stored.lastIndex === snapIndex ? (snapshot?.meta.term ?? 0) : log.termAt(stored.lastIndex);
      if (
        stored.lastTerm > 0 &&
        recordedTerm !== null &&
        stored.lastIndex >= snapIndex &&
        recordedTerm !== stored.lastTerm
      ) {
        throw new RaftStorageError(
          "corrupt",
          `Raft storage at ${dir}: entry ${stored.lastIndex} has term ${recordedTerm} but the hard state recorded term ${stored.lastTerm} for it; the log is not the one this member acknowledged. ${RECOVERY}`,
        );
      }
      if (lastTerm > stored.term) {
        throw new RaftStorageError(
          "corrupt",
          `Raft storage at ${dir}: the log holds term ${lastTerm} but the stored current term is ${stored.term}; the hard state is older than the log. ${RECOVERY}`,
        );
      }
      // The snapshot is committed by definition; a commit beyond the log means committed entries are gone.
      const commit = Math.max(stored.commit, snapIndex);
      if (commit > lastIndex) {
        throw new RaftStorageError(
          "corrupt",
          `Raft storage at ${dir}: entries up to ${commit} were committed but the log ends at ${lastIndex}. ${RECOVERY}`,
        );
      }
      const hardState: HardState = { term: stored.term, vote: stored.vote, commit };
      return new FileStorage(dir, identity, { hardState, entries, snapshot }, stored, log, lock);
    } catch (e) {
      log.close();
      throw e;
    }
  }

  private check(): void {
    if (this.closed) throw new RaftStorageError("invalid", `Raft storage at ${this.dir} is closed`);
  }

  save(update: StorageUpdate): void {
    this.check();
    if (update.hardState) {
      const hs = update.hardState;
      this.latest = hs;
      if (hs.term !== this.persisted.term || hs.vote !== this.persisted.vote) this.writeHardState({});
    }
    if (update.snapshot) {
      const { index, term } = update.snapshot.meta;
      writeFileAtomicSync(join(this.dir, SNAPSHOT_FILE), encodeSnapshotFile(update.snapshot));
      // A snapshot from the leader replaces our log: entries the core discarded must not come
      // back on restart (they may conflict with the leader's). Lower the recorded bounds first.
      this.writeHardState({ lastIndex: index, lastTerm: term, snapshotIndex: index, snapshotTerm: term });
      this.log.rewrite(index, []);
    }
    const first = update.entries[0];
    if (first) {
      const last = update.entries[update.entries.length - 1]!;
      // Replacing stored entries shrinks the log before it grows again: lower the floor first.
      const floor = first.index - 1;
      if (floor < this.persisted.lastIndex) this.writeHardState({ lastIndex: floor, lastTerm: this.termAt(floor) });
      this.log.append(update.entries);
      this.writeHardState({ lastIndex: last.index, lastTerm: last.term });
    }
  }

  private termAt(index: number): number {
    if (index === this.persisted.snapshotIndex) return this.persisted.snapshotTerm;
    const t = this.log.termAt(index);
    if (t === null) throw new RaftStorageError("invalid", `no stored entry at ${index}`);
    return t;
  }

  compact(snapshot: Snapshot): void {
    this.check();
    const { index, term } = snapshot.meta;
    if (index <= this.persisted.snapshotIndex) return;
    if (index > this.log.lastIndex) {
      throw new RaftStorageError("invalid", `cannot compact to ${index}: the log ends at ${this.log.lastIndex}`);
    }
    const keep = this.log.readFrom(index + 1);
    writeFileAtomicSync(join(this.dir, SNAPSHOT_FILE), encodeSnapshotFile(snapshot));
    this.writeHardState({ snapshotIndex: index, snapshotTerm: term });
    this.log.rewrite(index, keep);
  }

  /** Writes the latest hard state with the given bounds changed. */
  private writeHardState(
    bounds: Partial<Pick<DurableState, "lastIndex" | "lastTerm" | "snapshotIndex" | "snapshotTerm">>,
  ): void {
    const merged = { ...this.persisted, ...bounds };
    // The commit may run ahead of the entries stored so far (a new leader's append carries both);
    // the recorded commit never claims more than the log holds. A lagging commit is safe.
    const commit = Math.min(this.latest.commit, merged.lastIndex);
    const next: DurableState = { ...merged, term: this.latest.term, vote: this.latest.vote, commit };
    writeFileAtomicSync(join(this.dir, HARD_STATE_FILE), encodeHardStateFile(next));
    this.persisted = next;
  }

  close(): void {
    if (this.closed) return;
    try {
      if (this.latest.commit !== this.persisted.commit) this.writeHardState({});
    } finally {
      this.closed = true;
      this.log.close();
      this.lock.release();
    }
  }
}
