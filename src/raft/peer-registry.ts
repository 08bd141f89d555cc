// What this member knows of its peers' storage: `peers.json` in the Raft data directory maps each
// peer id to the storage incarnation it presented first (storage-identity.ts).
//
// Why: a member whose Raft storage was wiped and that is started again with the bootstrap flag
// looks brand new to itself, but it forgot its votes and acknowledged entries; letting it back in
// could elect a leader without committed writes, and it must never form a second cluster either.
// Its new storage has a new incarnation, so every peer that ever heard from the old one refuses
// it ("re-created storage"), and it stops with that error. A peer's incarnation is written here
// (fsynced) before anything from it is used, so every peer that ever counted its vote or ack
// remembers it. A member that joins a cluster for the first time, or that was down while the
// others formed the cluster, has no entry yet and is accepted.

import { join } from "node:path";
import { readFileIfExists, writeFileAtomicSync } from "./storage-files.js";
import { RaftStorageError, RECOVERY } from "./storage-errors.js";

const FILE = "peers.json";
const FORMAT = "litefs-node/raft-peers/1";

export class PeerRegistry {
  private readonly known: Map<string, string>;
  private readonly path: string;

  constructor(dir: string) {
    this.path = join(dir, FILE);
    this.known = new Map(Object.entries(readRegistry(this.path)));
  }

  /** Null to accept the peer (recording it the first time), else why it is refused. */
  admit(peer: string, incarnation: string): string | null {
    const known = this.known.get(peer);
    if (known === incarnation) return null;
    if (known === undefined) {
      this.known.set(peer, incarnation);
      writeFileAtomicSync(
        this.path,
        Buffer.from(JSON.stringify({ format: FORMAT, peers: Object.fromEntries(this.known) }, null, 2) + "\n"),
      );
      return null;
    }
    return (
      `re-created storage: member "${peer}" presents Raft storage incarnation ${incarnation}, but this member knows it as ${known}. ` +
      `Its Raft data was wiped and bootstrapped again; it forgot its votes and acknowledged entries, so the cluster refuses it. ` +
      RECOVERY.replace("Refusing to start. ", "")
    );
  }
}

function readRegistry(path: string): Record<string, string> {
  const raw = readFileIfExists(path);
  if (raw === null) return {};
  try {
    const o = JSON.parse(raw.toString("utf8")) as { format?: unknown; peers?: unknown };
    if (
      o.format === FORMAT &&
      typeof o.peers === "object" &&
      o.peers !== null &&
      Object.values(o.peers).every((v) => typeof v === "string")
    ) {
      return o.peers as Record<string, string>;
    }
  } catch {
    // fall through
  }
  throw new RaftStorageError("corrupt", `Raft peer registry ${path} is not a ${FORMAT} file. ${RECOVERY}`);
}
