// One write transaction on a GuardedDatabase: `BEGIN IMMEDIATE` sent through prepare(), which
// the driver treats as a guarded write start (refused at once on a replica, before any SQL of
// the migration runs). IMMEDIATE takes the write lock up front, so two appliers on the primary
// serialize instead of both reading "nothing applied" and racing.
import type BetterSqlite3 from "better-sqlite3";

export function inWriteTransaction<T>(db: BetterSqlite3.Database, body: () => T): T {
  db.prepare("BEGIN IMMEDIATE").run();
  try {
    const result = body();
    db.prepare("COMMIT").run();
    return result;
  } catch (error) {
    // COMMIT may itself have failed (e.g. LiteFS refused it): SQLite may have ended the
    // transaction already, so roll back only what is still open.
    if (db.inTransaction) {
      try {
        db.prepare("ROLLBACK").run();
      } catch {
        // the original error is the one worth reporting
      }
    }
    throw error;
  }
}
