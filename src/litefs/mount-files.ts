// Readers for the virtual files LiteFS v0.5.14 exposes in its FUSE mount (`fuse.dir`):
//   .primary   the primary's lease.hostname + "\n"; present only on a replica that knows its primary
//   <db>-pos   "%016x/%016x\n": TXID hex "/" post-apply checksum hex (34 bytes)
//   .lag       "%+010d\n": ms since the last primary timestamp; "+000000000" on the primary,
//              2147483647 on a replica that never synced
// Parsers are pure (string in, value out) so they can be tested against the recorded fixtures;
// readers add the file I/O and name the file in every error.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { LiteFSError } from "../errors.js";
import { parseTxid } from "./txid.js";

export const PRIMARY_FILE = ".primary";
export const LAG_FILE = ".lag";

/** The `.lag` value LiteFS writes before a replica has ever synced with a primary (int32 max). */
export const NEVER_SYNCED_LAG_MS = 2147483647;

/** Position of one database: its latest TXID and the checksum of the database after it. */
export interface DatabasePosition {
  readonly txid: bigint;
  /** 16 lowercase hex digits, as LiteFS prints it. */
  readonly checksum: string;
}

/** The file that holds a database's position: `<db>-pos`. */
function positionFileName(databaseName: string): string {
  return `${databaseName}-pos`;
}

function malformed(file: string, content: string, expected: string): LiteFSError {
  return new LiteFSError(
    "LITEFS_MOUNT",
    `malformed LiteFS file ${file}: expected ${expected}, got ${JSON.stringify(content.slice(0, 80))}`,
  );
}

// Hostnames LiteFS prints come from lease.hostname: no whitespace or control characters inside.
const HOSTNAME = /^[^\s\x00-\x1f\x7f]+$/;

/** Parses `.primary` content ("node-a\n") into the hostname. `file` names the file in errors. */
export function parsePrimaryFile(content: string, file = PRIMARY_FILE): string {
  const hostname = content.trim();
  if (!HOSTNAME.test(hostname)) throw malformed(file, content, 'a hostname and a newline (e.g. "node-a\\n")');
  return hostname;
}

const POSITION = /^([0-9a-fA-F]{16})\/([0-9a-fA-F]{16})\n$/;

/** Parses `<db>-pos` content ("0000000000000004/a2fc350afcb62d33\n"). */
export function parsePositionFile(content: string, file = "<db>-pos"): DatabasePosition {
  const match = POSITION.exec(content);
  if (!match) throw malformed(file, content, '"%016x/%016x\\n" (TXID hex, "/", checksum hex)');
  return { txid: parseTxid(match[1])!, checksum: match[2]!.toLowerCase() };
}

// %+010d: a sign and at least 9 digits (int32 max is 10 digits, so the width grows to 11).
const LAG = /^([+-])(\d{9,10})\n$/;

/**
 * Parses `.lag` content ("+000000281\n") into milliseconds. LiteFS's never-synced marker becomes
 * Infinity here, the one representation the rest of the code uses: it is not a real lag of ~24.8 days.
 */
export function parseLagFile(content: string, file = LAG_FILE): number {
  const match = LAG.exec(content);
  if (!match) throw malformed(file, content, '"%+010d\\n" (signed milliseconds, e.g. "+000000281\\n")');
  const ms = Number(match[2]) * (match[1] === "-" ? -1 : 1);
  return ms === NEVER_SYNCED_LAG_MS ? Number.POSITIVE_INFINITY : ms;
}

/**
 * A lag as JSON prints it (/health and `litefs-node status --json`): JSON has no Infinity, so a
 * replica that never synced shows LiteFS's own value, 2147483647, the number `.lag` holds then.
 * It stays a number on purpose: a consumer's `lagMs > threshold` still counts it as lagging, where
 * null (which means "unknown": dev mode, `.lag` unreadable) would compare as not lagging.
 */
export function lagMsForJson(lagMs: number | null): number | null {
  return lagMs === Number.POSITIVE_INFINITY ? NEVER_SYNCED_LAG_MS : lagMs;
}

function readMountFile(path: string): string | null {
  try {
    return readFileSync(path, "latin1");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw new LiteFSError("LITEFS_MOUNT", `cannot read LiteFS file ${path}: ${(error as Error).message}`, {
      cause: error,
    });
  }
}

/**
 * The primary's hostname from `<mount>/.primary`, or null when the file is absent. Absent is
 * ambiguous (this node is primary, OR it is a replica that lost its primary): see readLagFile.
 */
export function readPrimaryFile(mountPath: string): string | null {
  const path = join(mountPath, PRIMARY_FILE);
  const content = readMountFile(path);
  return content === null ? null : parsePrimaryFile(content, path);
}

/** The position of `databaseName` from `<mount>/<db>-pos`, or null when the file is absent. */
export function readPositionFile(mountPath: string, databaseName: string): DatabasePosition | null {
  const path = join(mountPath, positionFileName(databaseName));
  const content = readMountFile(path);
  return content === null ? null : parsePositionFile(content, path);
}

/** `<mount>/.lag` in ms (Infinity when never synced), or null when the file is absent (no LiteFS mount at that path). */
export function readLagFile(mountPath: string): number | null {
  const path = join(mountPath, LAG_FILE);
  const content = readMountFile(path);
  return content === null ? null : parseLagFile(content, path);
}
