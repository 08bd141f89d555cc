// One write transaction on a GuardedDatabase: `BEGIN IMMEDIATE` sent through prepare(), which
// the driver treats as a guarded write start (refused at once on a replica, before any SQL of
// the migration runs). IMMEDIATE takes the write lock up front, so two appliers on the primary
// serialize instead of both reading "nothing applied" and racing.
import type BetterSqlite3 from "better-sqlite3";
import { commitOrRollback } from "../src/driver/commit-or-rollback.js";

export function inWriteTransaction<T>(db: BetterSqlite3.Database, body: () => T): T {
  db.prepare("BEGIN IMMEDIATE").run();
  return commitOrRollback(
    {
      commit: () => db.prepare("COMMIT").run(),
      rollback: () => db.prepare("ROLLBACK").run(),
      isOpen: () => db.inTransaction,
    },
    body,
  );
}
