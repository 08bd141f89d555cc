// LiteFS's view read from the mount files: the gate's fallback while /events is not connected,
// so it runs before every write in that state. On LiteFS every file operation is a FUSE round
// trip (~40 µs), so we count operations: stat(.primary) never throws when the file is absent
// (the normal case on the primary), and we read with open+read+close into one reusable buffer
// (readFileSync would add an fstat and allocate). The primary case allocates nothing.
//
// The decision (per the LiteFS contract):
//   .primary present            -> replica of that hostname
//   .primary absent, .lag "+000000000" -> primary
//   .primary absent, .lag other -> replica that lost its primary (absent `.primary` alone is ambiguous)
//   .lag absent, or anything unreadable/malformed -> unknown (fail closed)
import { closeSync, openSync, readSync, statSync } from "node:fs";
import { join } from "node:path";
import { LAG_FILE, PRIMARY_FILE } from "./mount-files.js";
import { NO_PRIMARY_VIEW, PRIMARY_VIEW, replicaView, unknownView, type LiteFSView } from "./view.js";

const ZERO_LAG = Buffer.from("+000000000\n", "latin1");
const NEWLINE = 0x0a;

/**
 * The four file operations the reader makes. node:fs by default; a benchmark swaps in ones that
 * cost what they cost through LiteFS's FUSE mount (bench/fuse-latency.ts).
 */
export interface MountFileOps {
  /** A stat that does not throw when the file is absent: whether `path` exists. */
  exists(path: string): boolean;
  /** Opens `path` for reading; throws an ENOENT error when it does not exist. */
  open(path: string): number;
  /** Reads from the start of the file into `buffer`; returns the bytes read. */
  read(fd: number, buffer: Buffer): number;
  close(fd: number): void;
}

export const NODE_MOUNT_FILE_OPS: MountFileOps = Object.freeze({
  exists: (path: string) => statSync(path, { throwIfNoEntry: false }) !== undefined,
  open: (path: string) => openSync(path, "r"),
  read: (fd: number, buffer: Buffer) => readSync(fd, buffer, 0, buffer.length, 0),
  close: (fd: number) => closeSync(fd),
});

/** Returns a function that reads LiteFS's current view from `mountPath`; it never throws. */
export function createMountViewReader(mountPath: string, files: MountFileOps = NODE_MOUNT_FILE_OPS): () => LiteFSView {
  const primaryPath = join(mountPath, PRIMARY_FILE);
  const lagPath = join(mountPath, LAG_FILE);
  // Both files are a few bytes; anything that fills the buffer is not a LiteFS file.
  const buffer = Buffer.allocUnsafe(256);
  let lastReplica: LiteFSView | null = null;
  let lastReplicaBytes: Buffer = Buffer.alloc(0);

  /** Bytes read into `buffer`, or -1 when the file does not exist. Throws on other errors. */
  function readSmall(path: string): number {
    let fd: number;
    try {
      fd = files.open(path);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return -1;
      throw error;
    }
    try {
      return files.read(fd, buffer);
    } finally {
      files.close(fd);
    }
  }

  function readReplica(): LiteFSView {
    const n = readSmall(primaryPath);
    if (n < 0) return readLag(); // vanished between stat and open: same as absent
    let start = 0;
    let end = n;
    while (start < end && buffer[start]! <= 0x20) start++;
    while (end > start && buffer[end - 1]! <= 0x20) end--;
    if (start === end || n === buffer.length) return unknownView(`malformed ${primaryPath}`);
    for (let i = start; i < end; i++) {
      if (buffer[i]! <= 0x20 || buffer[i] === 0x7f) return unknownView(`malformed ${primaryPath}`);
    }
    // Reuse the last view when the hostname did not change: no string, no object.
    if (
      lastReplica &&
      lastReplicaBytes.length === end - start &&
      buffer.compare(lastReplicaBytes, 0, lastReplicaBytes.length, start, end) === 0
    ) {
      return lastReplica;
    }
    lastReplicaBytes = Buffer.from(buffer.subarray(start, end));
    lastReplica = replicaView(lastReplicaBytes.toString("latin1"));
    return lastReplica;
  }

  function readLag(): LiteFSView {
    const n = readSmall(lagPath);
    if (n < 0) return unknownView(`no LiteFS mount at ${mountPath} (neither ${PRIMARY_FILE} nor ${LAG_FILE} exists)`);
    if (n === ZERO_LAG.length && buffer.compare(ZERO_LAG, 0, ZERO_LAG.length, 0, n) === 0) return PRIMARY_VIEW;
    // Not zero: validate "%+010d\n" cheaply so garbage reads as unknown, not as a lag.
    const signOk = n >= 3 && (buffer[0] === 0x2b || buffer[0] === 0x2d);
    let digitsOk = signOk && buffer[n - 1] === NEWLINE;
    for (let i = 1; digitsOk && i < n - 1; i++) digitsOk = buffer[i]! >= 0x30 && buffer[i]! <= 0x39;
    if (!digitsOk || n === buffer.length) return unknownView(`malformed ${lagPath}`);
    return NO_PRIMARY_VIEW;
  }

  return function readMountView(): LiteFSView {
    try {
      return files.exists(primaryPath) ? readReplica() : readLag();
    } catch (error) {
      return unknownView(`cannot read LiteFS mount ${mountPath}: ${(error as Error).message}`);
    }
  };
}
