// Mount file operations that cost what they cost through LiteFS's FUSE mount, so the benchmark
// can measure the file-fallback gate as it runs on a real node, without FUSE.
//
// Measured on LiteFS v0.5.14 (litefs-contract.md, "Observed on real clusters"): a stat of the
// absent `.primary` on a primary takes 73-84 µs, reading `.lag` about 300 µs. A FUSE round trip
// blocks the calling thread, so the delay is spent synchronously here (a busy wait on the
// monotonic clock: sleeping would round up to the timer's granularity).

import { NODE_MOUNT_FILE_OPS, type MountFileOps } from "../src/litefs/mount-view.js";

export interface FuseLatency {
  /** Added to each stat (`exists`), in µs. */
  readonly statUs: number;
  /** Added to each read of a whole small file (open + read + close), in µs. */
  readonly readUs: number;
}

/** The latencies of litefs-contract.md: 80 µs per stat, 300 µs per file read. */
const LITEFS_FUSE_LATENCY: FuseLatency = Object.freeze({ statUs: 80, readUs: 300 });

function spin(us: number): void {
  const until = process.hrtime.bigint() + BigInt(Math.round(us * 1000));
  while (process.hrtime.bigint() < until) {
    // busy wait: a FUSE round trip holds the thread the same way
  }
}

/** node:fs file operations, each delayed as through a LiteFS FUSE mount. */
export function fuseLatencyFileOps(
  latency: FuseLatency = LITEFS_FUSE_LATENCY,
  files: MountFileOps = NODE_MOUNT_FILE_OPS,
): MountFileOps {
  return Object.freeze({
    exists(path: string): boolean {
      spin(latency.statUs);
      return files.exists(path);
    },
    open: (path: string) => files.open(path),
    read(fd: number, buffer: Buffer): number {
      spin(latency.readUs);
      return files.read(fd, buffer);
    },
    close: (fd: number) => files.close(fd),
  });
}
