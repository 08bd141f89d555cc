// One look at a replica's copy of the database: which migrations have not arrived yet. A fresh
// read-only connection each time, because replication may replace the file under an open one,
// and because a replica's connection must never write (not even a checkpoint).
import { databasePath, type LiteFSSettings } from "../src/config/index.js";
import { GuardedDatabase } from "../src/driver/guarded-database.js";
import type { LiteFSNode } from "../src/node/node.js";
import { LiteFSError } from "../src/errors.js";
import { isMigrationError } from "./errors.js";
import type { LoadedTarget } from "./targets.js";
import type { ReplicaCheck } from "./wait.js";

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

// Not-yet-replicated states (no file yet, file not in WAL yet, SQLite busy or mid-copy) are
// reasons to look again, not failures; anything else is a bug and ends the wait.
function isTransient(error: unknown): boolean {
  if (error instanceof LiteFSError) return !isMigrationError(error);
  return (
    typeof (error as { code?: unknown }).code === "string" && (error as { code: string }).code.startsWith("SQLITE_")
  );
}

export function checkReplicaDatabase(
  settings: LiteFSSettings,
  node: LiteFSNode,
  targets: readonly LoadedTarget[],
  busyTimeoutMs: number,
): ReplicaCheck {
  const all = targets.flatMap((t) => t.names);
  let db: GuardedDatabase;
  try {
    db = new GuardedDatabase(databasePath(settings), { gate: node.gate, readonly: true, busyTimeoutMs });
  } catch (error) {
    if (!isTransient(error)) throw error;
    return { done: false, missing: all, problem: message(error) };
  }
  try {
    const missing = targets.flatMap((t) => t.missing(db));
    return missing.length === 0 ? { done: true } : { done: false, missing, problem: null };
  } catch (error) {
    if (isMigrationError(error) || !isTransient(error)) throw error;
    return { done: false, missing: all, problem: message(error) };
  } finally {
    db.close();
  }
}
