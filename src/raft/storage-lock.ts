// An exclusive lock on the Raft data directory, so two lease services can never share one
// member's storage (two writers would interleave log appends and each vote on its own).
//
// The lock is an SQLite `BEGIN EXCLUSIVE` transaction on `<dir>/lock`, held open for the life of
// the storage. Why this and not a pid file: SQLite locks with POSIX fcntl() record locks, which the
// kernel releases when the process dies, SIGKILL and OOM kill included, so a crash can never leave
// a stale lock behind; an O_EXCL pid file would stay after a crash, and checking its pid for
// liveness is wrong in containers (pids are reused across restarts and namespaces). fcntl locks
// are also seen across containers that share the volume on one host. Node has no flock(); SQLite
// (better-sqlite3, already a dependency) gives the same guarantee without native code of ours.

import BetterSqlite3 from "better-sqlite3";
import { join } from "node:path";
import { RaftStorageError } from "./storage-errors.js";

const LOCK_FILE = "lock";

export interface DirectoryLock {
  release(): void;
}

/** Takes the lock at once or throws: a second service on the same directory must fail fast. */
export function lockDirectory(dir: string): DirectoryLock {
  const path = join(dir, LOCK_FILE);
  const db = new BetterSqlite3(path, { timeout: 0 });
  try {
    db.exec("BEGIN EXCLUSIVE");
  } catch (e) {
    db.close();
    if ((e as { code?: string }).code === "SQLITE_BUSY") {
      throw new RaftStorageError(
        "locked",
        `Raft data directory ${dir} is in use by another lease service (it holds the lock on ${path}). ` +
          `Each member needs its own directory (LITEFS_RAFT_DATA_DIR); stop the other process first. ` +
          `The lock dies with its process, so this is never a stale lock from a crash.`,
      );
    }
    throw e;
  }
  let held = true;
  return {
    release() {
      if (!held) return;
      held = false;
      db.close();
    },
  };
}
