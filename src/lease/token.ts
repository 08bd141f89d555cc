// The lease service's token: every request to it must carry it (X-Consul-Token), so only this
// node's LiteFS (which reads it from lease.consul.url's password) can take, renew or release the
// lease. Pinned with raft.leaseToken, or made once per node (256 bits from the OS CSPRNG) and kept
// in `<raft.dataDir>/lease-token`, mode 0600, reused on every restart. Never logged.

import { randomBytes } from "node:crypto";
import {
  closeSync,
  fsyncSync,
  linkSync,
  mkdirSync,
  openSync,
  readFileSync,
  rmSync,
  statSync,
  unlinkSync,
  writeSync,
} from "node:fs";
import { join } from "node:path";
import type { RaftSettings } from "../config/index.js";
import { leaseTokenProblem } from "../config/fields.js";
import { ConfigError } from "../errors.js";

const LEASE_TOKEN_FILE = "lease-token";
const TOKEN_BYTES = 32;

export interface LeaseToken {
  readonly token: string;
  /** "setting": raft.leaseToken; "file": read from `path`; "generated": just written to `path`. */
  readonly source: "setting" | "file" | "generated";
  readonly path: string | null;
}

export function leaseTokenPath(raft: Pick<RaftSettings, "dataDir">): string {
  return join(raft.dataDir, LEASE_TOKEN_FILE);
}

const tokenError = (message: string): ConfigError =>
  new ConfigError([{ setting: "raft.leaseToken", env: "LITEFS_RAFT_LEASE_TOKEN", message }]);

/** The token in `path`, or null when there is no such file. Refuses a file others can read. */
function readTokenFile(path: string): string | null {
  let mode: number;
  try {
    mode = statSync(path).mode;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw e;
  }
  if ((mode & 0o077) !== 0) {
    throw tokenError(
      `is kept in ${path}, which other users may read or write (mode ${(mode & 0o777).toString(8)}): anyone who read it can take the lease. ` +
        `Delete the file (a new token is made at the next start) or run \`chmod 600 ${path}\`.`,
    );
  }
  const token = readFileSync(path, "utf8").trim();
  const problem = leaseTokenProblem(token);
  if (problem !== null)
    throw tokenError(
      `the token in ${path} is not valid (${problem}): delete the file and a new one is made at the next start`,
    );
  return token;
}

/** The pinned token, or the one this node keeps in its data directory; null when neither exists yet. */
export function existingLeaseToken(raft: Pick<RaftSettings, "dataDir" | "leaseToken">): LeaseToken | null {
  if (raft.leaseToken !== null) return { token: raft.leaseToken, source: "setting", path: null };
  const path = leaseTokenPath(raft);
  const token = readTokenFile(path);
  return token === null ? null : { token, source: "file", path };
}

/**
 * The token this node's lease service requires: the pinned one, the kept one, or a new one made
 * now. Two processes starting at once agree: the file is published with link(2), which fails when
 * another process got there first, and then that one's token is read.
 */
export function resolveLeaseToken(raft: Pick<RaftSettings, "dataDir" | "leaseToken">): LeaseToken {
  const existing = existingLeaseToken(raft);
  if (existing !== null) return existing;
  const path = leaseTokenPath(raft);
  mkdirSync(raft.dataDir, { recursive: true, mode: 0o700 });
  const token = randomBytes(TOKEN_BYTES).toString("base64url");
  const temp = `${path}.${process.pid}.tmp`;
  rmSync(temp, { force: true });
  const fd = openSync(temp, "wx", 0o600);
  try {
    writeSync(fd, token + "\n");
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  try {
    linkSync(temp, path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
    const winner = readTokenFile(path);
    if (winner !== null) return { token: winner, source: "file", path };
    throw e;
  } finally {
    unlinkSync(temp);
  }
  return { token, source: "generated", path };
}
