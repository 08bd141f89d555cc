// The cluster membership marker: `identity.json` in the Raft data directory, written once at
// bootstrap, naming the node id and cluster id the directory belongs to.
//
// Why: a node whose disk was wiped but that restarts under its old id would come back with
// term 0, no vote and an empty log. It could vote twice in a term it already voted in, or help
// elect a leader that lacks entries it had acknowledged: both break Raft's safety. So an empty
// directory is only ever accepted with an explicit bootstrap request, and a directory written
// for another node or cluster is refused.

import { randomBytes } from "node:crypto";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { readFileIfExists, writeFileAtomicSync } from "./storage-files.js";
import { RaftStorageError } from "./storage-errors.js";

export const IDENTITY_FILE = "identity.json";
const FORMAT = "litefs-node/raft-storage/1";

export interface StorageIdentity {
  readonly nodeId: string;
  readonly clusterId: string;
  /** ISO time of bootstrap, for operators. */
  readonly createdAt: string;
  /**
   * Random id of this copy of the member's storage, made at bootstrap. Peers remember it: a member
   * that comes back with re-created storage shows another one and is refused (it forgot its votes).
   */
  readonly incarnation: string;
}

export function newIncarnation(): string {
  return randomBytes(16).toString("hex");
}

/** Lists directory entries, or null when the directory does not exist. */
export function listDir(dir: string): string[] | null {
  try {
    return readdirSync(dir);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw e;
  }
}

export function readIdentity(dir: string): StorageIdentity | null {
  const path = join(dir, IDENTITY_FILE);
  const raw = readFileIfExists(path);
  if (raw === null) return null;
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw.toString("utf8"));
  } catch (e) {
    throw new RaftStorageError("corrupt", `Raft identity file ${path} is not valid JSON: ${(e as Error).message}`);
  }
  const o = parsed as Record<string, unknown> | null;
  if (
    !o ||
    o.format !== FORMAT ||
    typeof o.nodeId !== "string" ||
    typeof o.clusterId !== "string" ||
    typeof o.createdAt !== "string"
  ) {
    throw new RaftStorageError(
      "corrupt",
      `Raft identity file ${path} is not a ${FORMAT} identity (fields format, nodeId, clusterId, createdAt)`,
    );
  }
  // Files from before incarnations existed: a stable stand-in derived from the bootstrap time.
  const incarnation = typeof o.incarnation === "string" ? o.incarnation : `created-${o.createdAt}`;
  return { nodeId: o.nodeId, clusterId: o.clusterId, createdAt: o.createdAt, incarnation };
}

export function writeIdentity(dir: string, id: StorageIdentity): void {
  const body =
    JSON.stringify(
      {
        format: FORMAT,
        nodeId: id.nodeId,
        clusterId: id.clusterId,
        createdAt: id.createdAt,
        incarnation: id.incarnation,
      },
      null,
      2,
    ) + "\n";
  writeFileAtomicSync(join(dir, IDENTITY_FILE), Buffer.from(body, "utf8"));
}

export function missingStorageError(
  dir: string,
  nodeId: string,
  clusterId: string,
  state: "missing" | "empty",
): RaftStorageError {
  return new RaftStorageError(
    "missing",
    `Raft storage for node "${nodeId}" in cluster "${clusterId}" is ${state} at ${dir}. ` +
      `A node that lost its Raft data must not rejoin under its old id: it would forget its vote and ` +
      `entries it acknowledged, which can elect a leader without committed writes. ` +
      `If this is the very first start of a brand-new cluster, start every node with bootstrap ` +
      `enabled (LITEFS_RAFT_BOOTSTRAP=true; it is ignored once a member has storage). If this member's ` +
      `data was lost, add the member back as the README describes (raft mode, "Recovering a member").`,
  );
}

export function mismatchError(
  dir: string,
  found: StorageIdentity,
  nodeId: string,
  clusterId: string,
): RaftStorageError {
  return new RaftStorageError(
    "mismatch",
    `Raft storage at ${dir} belongs to node "${found.nodeId}" in cluster "${found.clusterId}" (bootstrapped ${found.createdAt}), ` +
      `but this node is configured as "${nodeId}" in cluster "${clusterId}". Point the Raft data directory at this node's own storage.`,
  );
}
