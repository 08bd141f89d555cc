// The Raft log on disk: one append-only file of records
//
//   [u32 payload length][u32 CRC32 over (length bytes + payload)][payload = encoded Entry]
//
// Why this shape:
// - Appends are one positional write + one fsync; nothing is ever rewritten on the hot path.
// - The CRC covers the length too, so a zero-filled tail (a file extended by the filesystem
//   but never written) or random garbage cannot pass as a record.
// - Torn tail or damage? The storage records, durably and before any ack leaves, the last index
//   the log holds (the hard state's `lastIndex`, see storage.ts). A crash can only tear records
//   written after that point, which nobody was told about: those are a torn tail, dropped and
//   truncated away. A bad record, or a missing one, at or below the recorded index is damage to
//   acknowledged data: open refuses, naming the file and the byte offset. So a flipped bit in a
//   length field mid-log can never pass for a torn tail.
// - Conflict truncation ("an entry at index i replaces everything from i on") is ftruncate at
//   the record offset of entry i, then append, then one fsync: durable in the same step.
// - Compaction (after a snapshot) rewrites the surviving suffix into a temp file, fsyncs it and
//   renames it over the log (+ directory fsync). It runs only after a snapshot, so its cost is
//   amortized over many entries. Entries at or below the snapshot index that survive a crash
//   between writing the snapshot and rewriting the log are skipped on open.

import { closeSync, fstatSync, fsyncSync, ftruncateSync, openSync, readSync, renameSync } from "node:fs";
import { crc32 } from "node:zlib";
import { dirname } from "node:path";
import { decodeEntry, encodeEntry, DEFAULT_CODEC_LIMITS } from "./codec.js";
import { fsyncDir, tempPathFor, writeFully } from "./storage-files.js";
import type { Entry } from "./types.js";
import { RaftStorageError, RECOVERY } from "./storage-errors.js";

const HEADER = 8;
/** Bound on one record so a garbage length cannot make us allocate gigabytes. */
const MAX_RECORD_BYTES = DEFAULT_CODEC_LIMITS.maxEntryBytes + 64;

export function encodeRecord(payload: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(HEADER + payload.length);
  out.writeUInt32BE(payload.length, 0);
  out.set(payload, HEADER);
  // CRC over length + payload: skip the crc slot itself.
  const c = crc32(out.subarray(HEADER), crc32(out.subarray(0, 4)));
  out.writeUInt32BE(c, 4);
  return out;
}

interface ParsedRecord {
  readonly payload: Buffer;
  readonly next: number;
}

/** Parses one record at `off`, or returns a reason it is not valid. */
function parseRecord(file: Buffer, off: number): ParsedRecord | string {
  if (file.length - off < HEADER) return `only ${file.length - off} bytes left for an ${HEADER}-byte record header`;
  const len = file.readUInt32BE(off);
  if (len > MAX_RECORD_BYTES) return `record length ${len} exceeds the limit ${MAX_RECORD_BYTES}`;
  if (file.length - off - HEADER < len)
    return `record of ${len} bytes but only ${file.length - off - HEADER} bytes follow`;
  const payload = file.subarray(off + HEADER, off + HEADER + len);
  const want = file.readUInt32BE(off + 4);
  const got = crc32(payload, crc32(file.subarray(off, off + 4)));
  if (want !== got) return `checksum mismatch`;
  return { payload, next: off + HEADER + len };
}

function readWhole(fd: number): Buffer {
  const size = fstatSync(fd).size;
  const buf = Buffer.allocUnsafe(size);
  let off = 0;
  while (off < size) {
    const n = readSync(fd, buf, off, size - off, off);
    if (n === 0) break;
    off += n;
  }
  return buf.subarray(0, off);
}

export interface LogOpenResult {
  readonly log: LogFile;
  /** Entries after `afterIndex`, in order. */
  readonly entries: Entry[];
  /** Set when a torn tail was dropped: what and where. */
  readonly droppedTail: string | null;
}

export class LogFile {
  private fd: number;
  /** offsets[k] = file offset of the record of entry `firstIndex + k`. */
  private offsets: number[] = [];
  /** terms[k] = term of entry `firstIndex + k`. */
  private terms: number[] = [];
  private firstIndex: number;
  private size: number;

  private constructor(
    private readonly path: string,
    fd: number,
    firstIndex: number,
    size: number,
  ) {
    this.fd = fd;
    this.firstIndex = firstIndex;
    this.size = size;
  }

  /**
   * Opens the existing log at `path`. Entries at or below `afterIndex` (covered by the snapshot)
   * are skipped; the rest must be consecutive from `afterIndex + 1`. `ackedIndex` is the last
   * index the storage recorded as durable: the log must reach it, and only records after it may
   * be dropped as a torn tail.
   */
  static open(path: string, afterIndex: number, ackedIndex: number): LogOpenResult {
    const rw = openSync(path, "r+");
    try {
      const file = readWhole(rw);
      const entries: Entry[] = [];
      const offsets: number[] = [];
      const terms: number[] = [];
      let off = 0;
      let bad: string | null = null;
      let expected = -1;
      let skipped = 0;
      while (off < file.length) {
        const rec = parseRecord(file, off);
        if (typeof rec === "string") {
          bad = rec;
          break;
        }
        let e: Entry;
        try {
          e = decodeEntry(rec.payload);
        } catch (err) {
          throw new RaftStorageError(
            "corrupt",
            `Raft log ${path}: record at byte ${off} has a valid checksum but does not decode: ${(err as Error).message}. ${RECOVERY}`,
          );
        }
        if (expected !== -1 && e.index !== expected) {
          // Truncation is done with ftruncate, so indexes in the file are always consecutive.
          throw new RaftStorageError(
            "corrupt",
            `Raft log ${path}: entry ${e.index} at byte ${off} follows entry ${expected - 1}; the log is not consecutive. ${RECOVERY}`,
          );
        }
        expected = e.index + 1;
        if (e.index > afterIndex) {
          if (entries.length === 0 && e.index !== afterIndex + 1) {
            throw new RaftStorageError(
              "corrupt",
              `Raft log ${path}: first entry after the snapshot is ${e.index}, expected ${afterIndex + 1}; entries are missing. ${RECOVERY}`,
            );
          }
          entries.push(e);
          offsets.push(off);
          terms.push(e.term);
        } else {
          skipped++;
        }
        off = rec.next;
      }
      const reached = entries.length > 0 ? entries[entries.length - 1]!.index : afterIndex;
      if (reached < ackedIndex) {
        const where = bad === null ? `it ends at byte ${off}` : `it is damaged at byte ${off} (${bad})`;
        throw new RaftStorageError(
          "corrupt",
          `Raft log ${path} holds entries only up to ${reached} but entries up to ${ackedIndex} were acknowledged: ${where}. ` +
            `This is not a torn write from a crash but lost or damaged acknowledged data. ${RECOVERY}`,
        );
      }
      const droppedTail =
        bad === null
          ? null
          : `dropped ${file.length - off} bytes of unacknowledged torn tail at byte ${off} (${bad}); entries up to ${reached} are intact`;
      if (bad !== null) {
        ftruncateSync(rw, off);
        fsyncSync(rw);
      }
      const log = new LogFile(path, rw, afterIndex + 1, off);
      log.offsets = offsets;
      log.terms = terms;
      // Records covered by the snapshot survive a crash between writing the snapshot and
      // compacting the log. Compact now, so the file always starts right after the snapshot and
      // later appends keep it consecutive.
      if (skipped > 0) log.rewrite(afterIndex, entries);
      return { log, entries, droppedTail };
    } catch (e) {
      closeSync(rw);
      throw e;
    }
  }

  /** Term of a stored entry, or null when `index` is not in the log. */
  termAt(index: number): number | null {
    return this.terms[index - this.firstIndex] ?? null;
  }

  get lastIndex(): number {
    return this.firstIndex + this.offsets.length - 1;
  }

  /**
   * Appends `entries` (consecutive). If the first index is at or below the last stored index,
   * everything from it on is truncated first. Durable (fsync) when it returns.
   */
  append(entries: readonly Entry[]): void {
    const first = entries[0];
    if (!first) return;
    if (first.index < this.firstIndex) {
      throw new RaftStorageError(
        "invalid",
        `cannot append entry ${first.index}: it is covered by the snapshot (log starts at ${this.firstIndex})`,
      );
    }
    if (first.index > this.lastIndex + 1) {
      throw new RaftStorageError(
        "invalid",
        `cannot append entry ${first.index}: the log ends at ${this.lastIndex}, entries would have a gap`,
      );
    }
    if (first.index <= this.lastIndex) {
      const k = first.index - this.firstIndex;
      const cut = this.offsets[k]!;
      ftruncateSync(this.fd, cut);
      this.offsets.length = k;
      this.terms.length = k;
      this.size = cut;
    }
    const records: Buffer[] = [];
    let pos = this.size;
    let expected = first.index;
    for (const e of entries) {
      if (e.index !== expected)
        throw new RaftStorageError(
          "invalid",
          `entries to append are not consecutive at ${e.index} (expected ${expected})`,
        );
      expected++;
      const rec = encodeRecord(encodeEntry(e));
      this.offsets.push(pos);
      this.terms.push(e.term);
      pos += rec.length;
      records.push(rec);
    }
    writeFully(this.fd, Buffer.concat(records), this.size);
    fsyncSync(this.fd);
    this.size = pos;
  }

  /**
   * Rewrites the log so that it holds only `keep` (entries after the new snapshot index, which
   * the caller reads back from its in-memory log) and starts at `afterIndex + 1`.
   */
  rewrite(afterIndex: number, keep: readonly Entry[]): void {
    const tmp = tempPathFor(this.path);
    const fd = openSync(tmp, "w", 0o600);
    const offsets: number[] = [];
    let pos = 0;
    try {
      const records: Buffer[] = [];
      let expected = afterIndex + 1;
      for (const e of keep) {
        if (e.index !== expected)
          throw new RaftStorageError("invalid", `log rewrite: entry ${e.index} where ${expected} was expected`);
        expected++;
        const rec = encodeRecord(encodeEntry(e));
        offsets.push(pos);
        pos += rec.length;
        records.push(rec);
      }
      writeFully(fd, Buffer.concat(records), 0);
      fsyncSync(fd);
    } catch (e) {
      closeSync(fd);
      throw e;
    }
    closeSync(fd);
    renameSync(tmp, this.path);
    fsyncDir(dirname(this.path));
    closeSync(this.fd);
    this.fd = openSync(this.path, "r+");
    this.offsets = offsets;
    this.terms = keep.map((e) => e.term);
    this.firstIndex = afterIndex + 1;
    this.size = pos;
  }

  /** Reads back the stored entries with index >= `from` (used to compact without a caller copy). */
  readFrom(from: number): Entry[] {
    const out: Entry[] = [];
    const start = Math.max(0, from - this.firstIndex);
    for (let k = start; k < this.offsets.length; k++) {
      const off = this.offsets[k]!;
      const end = this.offsets[k + 1] ?? this.size;
      const buf = Buffer.allocUnsafe(end - off);
      let got = 0;
      while (got < buf.length) {
        const n = readSync(this.fd, buf, got, buf.length - got, off + got);
        if (n === 0)
          throw new RaftStorageError(
            "corrupt",
            `Raft log ${this.path}: unexpected end of file reading entry ${this.firstIndex + k}`,
          );
        got += n;
      }
      const rec = parseRecord(buf, 0);
      if (typeof rec === "string")
        throw new RaftStorageError(
          "corrupt",
          `Raft log ${this.path}: entry ${this.firstIndex + k} unreadable (${rec})`,
        );
      out.push(decodeEntry(rec.payload));
    }
    return out;
  }

  close(): void {
    closeSync(this.fd);
  }
}
