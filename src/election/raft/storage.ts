// Durable Raft storage in one directory:
//
//   identity.json  node id + cluster id, written once at bootstrap (see storage-identity.ts)
//   hardstate      term, vote, commit     (atomic replace: temp + fsync + rename + dir fsync)
//   snapshot       latest snapshot         (atomic replace)
//   log            entries after the snapshot (append-only, CRC'd records; see storage-log.ts)
//
// Every method is synchronous and durable when it returns, so a caller that persists and then
// sends cannot send early. Write order inside `save`: hard state, snapshot, entries. The hard
// state goes first so the stored term is never below the term of a stored entry or snapshot.
//
// The commit index is persisted lazily: the hard-state file is rewritten when term or vote
// change (both are required for safety before a vote or ack leaves), and otherwise the latest
// commit is written at compaction and close. A stale commit on restart is safe: commit is only
// knowledge, and the leader re-teaches it with its next heartbeat.

import { mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { ByteReader, ByteWriter, RaftCodecError } from "./bytes.js";
import { readSnapshot, writeSnapshot } from "./codec.js";
import { fsyncDir, readFileIfExists, removeIfExists, sealFile, tempPathFor, unsealFile, writeFileAtomicSync } from "./storage-files.js";
import { RaftStorageError } from "./storage-errors.js";
import { IDENTITY_FILE, listDir, mismatchError, missingStorageError, readIdentity, writeIdentity, type StorageIdentity } from "./storage-identity.js";
import { LogFile } from "./storage-log.js";
import type { Entry, HardState, NodeId, Snapshot } from "./types.js";

export { RaftStorageError, type RaftStorageErrorKind } from "./storage-errors.js";
export type { StorageIdentity } from "./storage-identity.js";

const HARD_STATE_FILE = "hardstate";
const SNAPSHOT_FILE = "snapshot";
const LOG_FILE = "log";
const HARD_STATE_MAGIC = "LRHS";
const SNAPSHOT_MAGIC = "LRSN";

export interface RaftStorageOptions {
  /** The Raft data directory (LITEFS_RAFT_DATA_DIR). */
  readonly dir: string;
  readonly nodeId: NodeId;
  readonly clusterId: string;
  /**
   * Accept a missing or empty directory and initialize it. Only for the very first start of a
   * new cluster: with existing storage it is accepted only while that storage is still pristine
   * (never voted, no entries), so a flag left on by mistake cannot let a node that later loses its
   * data rejoin silently.
   */
  readonly bootstrap?: boolean;
  /** Non-fatal repairs (a dropped torn tail, a clamped commit). */
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

const EMPTY_HARD_STATE: HardState = Object.freeze({ term: 0, vote: null, commit: 0 });

export function openRaftStorage(options: RaftStorageOptions): RaftStorage {
  const { dir, nodeId, clusterId } = options;
  const warn = options.onWarning ?? (() => {});
  const listing = listDir(dir);
  const identity = readIdentity(dir);
  if (identity === null) {
    const raftFiles = (listing ?? []).filter((f) => f === HARD_STATE_FILE || f === SNAPSHOT_FILE || f === LOG_FILE);
    if (raftFiles.length > 0) {
      throw new RaftStorageError(
        "corrupt",
        `Raft storage at ${dir} has ${raftFiles.join(", ")} but no ${IDENTITY_FILE}: it was not created by this version or was damaged; refusing to guess which node it belongs to.`,
      );
    }
    if (!options.bootstrap) throw missingStorageError(dir, nodeId, clusterId, listing === null ? "missing" : "empty");
    mkdirSync(dir, { recursive: true });
    // Make the new directory's own entry durable too, not only the files inside it.
    fsyncDir(dirname(dir));
    writeIdentity(dir, { nodeId, clusterId, createdAt: new Date().toISOString() });
    return FileStorage.open(dir, readIdentity(dir)!, warn);
  }
  if (identity.nodeId !== nodeId || identity.clusterId !== clusterId) throw mismatchError(dir, identity, nodeId, clusterId);
  const storage = FileStorage.open(dir, identity, warn);
  if (options.bootstrap && !isPristine(storage.initial)) {
    storage.close();
    throw new RaftStorageError(
      "invalid",
      `bootstrap was requested for node "${nodeId}" but its Raft storage at ${dir} already holds state (term ${storage.initial.hardState.term}). ` +
        `Bootstrap is for the first start only: remove the bootstrap flag (LITEFS_RAFT_BOOTSTRAP) and start again.`,
    );
  }
  return storage;
}

function isPristine(s: PersistedState): boolean {
  return s.hardState.term === 0 && s.hardState.vote === null && s.entries.length === 0 && s.snapshot === null;
}

export function encodeHardState(hs: HardState): Buffer {
  const w = new ByteWriter(64);
  w.u64(hs.term, "term").u8(hs.vote === null ? 0 : 1).str(hs.vote ?? "", 255, "vote").u64(hs.commit, "commit");
  return w.finish();
}

export function decodeHardState(bytes: Uint8Array): HardState {
  const r = new ByteReader(bytes, "hard state");
  const term = r.u64("term");
  const hasVote = r.u8("vote flag");
  const vote = r.str(255, "vote");
  const commit = r.u64("commit");
  r.end();
  if (hasVote > 1) throw new RaftCodecError(`hard state: bad vote flag ${hasVote}`);
  return { term, vote: hasVote ? vote : null, commit };
}

function readSealed<T>(path: string, magic: string, decode: (b: Uint8Array) => T): T | null {
  const file = readFileIfExists(path);
  if (file === null) return null;
  const payload = unsealFile(magic, file);
  if (typeof payload === "string") {
    // Atomic rename means a torn metadata file is impossible; this is damage, and guessing a
    // default (term 0, no vote) would be exactly the unsafe restart we refuse elsewhere.
    throw new RaftStorageError("corrupt", `Raft storage file ${path} is damaged: ${payload}. Restore it from a backup or re-add the node under a new id.`);
  }
  try {
    return decode(payload);
  } catch (e) {
    throw new RaftStorageError("corrupt", `Raft storage file ${path} does not decode: ${(e as Error).message}`);
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

class FileStorage implements RaftStorage {
  /** What the hard-state file holds now (commit may lag, see the header). */
  private persisted: HardState;
  /** Latest hard state given to us, including a commit not yet written. */
  private latest: HardState;
  private snapshotIndex: number;
  private closed = false;

  private constructor(
    readonly dir: string,
    readonly identity: StorageIdentity,
    readonly initial: PersistedState,
    private readonly log: LogFile,
  ) {
    this.persisted = initial.hardState;
    this.latest = initial.hardState;
    this.snapshotIndex = initial.snapshot?.meta.index ?? 0;
  }

  static open(dir: string, identity: StorageIdentity, warn: (m: string) => void): FileStorage {
    // Leftover temp files are writes that crashed before their rename: never valid, drop them.
    for (const f of [HARD_STATE_FILE, SNAPSHOT_FILE, LOG_FILE]) removeIfExists(tempPathFor(join(dir, f)));
    const stored = readSealed(join(dir, HARD_STATE_FILE), HARD_STATE_MAGIC, decodeHardState) ?? EMPTY_HARD_STATE;
    const snapshot = readSealed(join(dir, SNAPSHOT_FILE), SNAPSHOT_MAGIC, decodeSnapshotFile);
    const snapIndex = snapshot?.meta.index ?? 0;
    const { log, entries, droppedTail } = LogFile.open(join(dir, LOG_FILE), snapIndex);
    if (droppedTail) warn(`Raft log: ${droppedTail}`);
    const lastIndex = entries.length > 0 ? entries[entries.length - 1]!.index : snapIndex;
    const lastTerm = entries.length > 0 ? entries[entries.length - 1]!.term : (snapshot?.meta.term ?? 0);
    if (lastTerm > stored.term) {
      log.close();
      throw new RaftStorageError("corrupt", `Raft storage at ${dir}: the log holds term ${lastTerm} but the stored current term is ${stored.term}; the hard state is older than the log`);
    }
    // The snapshot is committed by definition; a commit beyond the (repaired) log cannot be used.
    let commit = Math.max(stored.commit, snapIndex);
    if (commit > lastIndex) {
      warn(`Raft storage: stored commit ${commit} is beyond the last stored entry ${lastIndex}; using ${lastIndex}`);
      commit = lastIndex;
    }
    const hardState: HardState = { term: stored.term, vote: stored.vote, commit };
    return new FileStorage(dir, identity, { hardState, entries, snapshot }, log);
  }

  private check(): void {
    if (this.closed) throw new RaftStorageError("invalid", `Raft storage at ${this.dir} is closed`);
  }

  save(update: StorageUpdate): void {
    this.check();
    if (update.hardState) {
      const hs = update.hardState;
      this.latest = hs;
      if (hs.term !== this.persisted.term || hs.vote !== this.persisted.vote) this.writeHardState(hs);
    }
    if (update.snapshot) {
      writeFileAtomicSync(join(this.dir, SNAPSHOT_FILE), encodeSnapshotFile(update.snapshot));
      this.snapshotIndex = update.snapshot.meta.index;
      // A snapshot from the leader replaces our log: entries the core discarded must not come
      // back on restart (they may conflict with the leader's).
      this.log.rewrite(this.snapshotIndex, []);
    }
    if (update.entries.length > 0) this.log.append(update.entries);
  }

  compact(snapshot: Snapshot): void {
    this.check();
    const index = snapshot.meta.index;
    if (index <= this.snapshotIndex) return;
    if (index > this.log.lastIndex) {
      throw new RaftStorageError("invalid", `cannot compact to ${index}: the log ends at ${this.log.lastIndex}`);
    }
    const keep = this.log.readFrom(index + 1);
    writeFileAtomicSync(join(this.dir, SNAPSHOT_FILE), encodeSnapshotFile(snapshot));
    this.snapshotIndex = index;
    this.log.rewrite(index, keep);
    if (this.latest.commit !== this.persisted.commit) this.writeHardState(this.latest);
  }

  private writeHardState(hs: HardState): void {
    writeFileAtomicSync(join(this.dir, HARD_STATE_FILE), sealFile(HARD_STATE_MAGIC, encodeHardState(hs)));
    this.persisted = hs;
  }

  close(): void {
    if (this.closed) return;
    try {
      if (this.latest.commit !== this.persisted.commit) this.writeHardState(this.latest);
    } finally {
      this.closed = true;
      this.log.close();
    }
  }
}
