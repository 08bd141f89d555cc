// Crash-safe file primitives for Raft storage.
//
// Metadata (hard state, snapshot, identity) is replaced atomically: write a temp file, fsync it,
// rename it over the old one, fsync the directory so the rename itself is durable. A crash at any
// point leaves either the old or the new file, never a mix. Sync calls on purpose: the runner must
// not send anything that depends on these writes before they are on disk, and a blocking call
// makes that ordering impossible to get wrong.

import { closeSync, fsyncSync, openSync, readFileSync, renameSync, unlinkSync, writeSync } from "node:fs";
import { crc32 } from "node:zlib";
import { basename, dirname, join } from "node:path";

/** Writes all of `buf` at `position` (positional writes may be partial). */
export function writeFully(fd: number, buf: Uint8Array, position: number): void {
  let off = 0;
  while (off < buf.length) {
    off += writeSync(fd, buf, off, buf.length - off, position + off);
  }
}

/** Makes a directory entry change (create, rename, unlink) durable. */
export function fsyncDir(dir: string): void {
  const fd = openSync(dir, "r");
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

export function tempPathFor(path: string): string {
  return join(dirname(path), `.${basename(path)}.tmp`);
}

/** temp file + fsync + rename + directory fsync. */
export function writeFileAtomicSync(path: string, data: Uint8Array): void {
  const tmp = tempPathFor(path);
  const fd = openSync(tmp, "w", 0o600);
  try {
    writeFully(fd, data, 0);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
  fsyncDir(dirname(path));
}

export function readFileIfExists(path: string): Buffer | null {
  try {
    return readFileSync(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw e;
  }
}

export function removeIfExists(path: string): void {
  try {
    unlinkSync(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw e;
  }
}

// A checksummed container for the small metadata files: 4-byte magic, CRC32 of the payload,
// payload. Atomic rename already prevents torn metadata; the CRC catches bit rot and foreign files.
export function sealFile(magic: string, payload: Uint8Array): Buffer {
  const head = Buffer.alloc(8);
  head.write(magic, 0, 4, "latin1");
  head.writeUInt32BE(crc32(payload), 4);
  return Buffer.concat([head, payload]);
}

/** Returns the payload, or a string describing why the file is not a valid sealed file. */
export function unsealFile(magic: string, file: Buffer): Buffer | string {
  if (file.length < 8) return `file is ${file.length} bytes, too short for its header`;
  if (file.toString("latin1", 0, 4) !== magic) return `file does not start with the magic "${magic}"`;
  const payload = file.subarray(8);
  const want = file.readUInt32BE(4);
  const got = crc32(payload);
  if (want !== got) return `checksum mismatch (stored ${want.toString(16)}, computed ${got.toString(16)})`;
  return payload;
}
