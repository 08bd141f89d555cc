// The end of every write transaction here (the guarded driver's transaction(), the Prisma adapter's
// commit, the migration appliers): COMMIT after the body, and on any failure, COMMIT's own too,
// ROLLBACK of whatever SQLite still holds open. SQLite may have ended the transaction itself (a
// failed COMMIT, a refused write), so the rollback is asked only while one is open; if the
// rollback fails too, the first error is the one reported.

/** What ends a transaction; `isOpen` is the connection's `inTransaction`. */
export interface TransactionEnd {
  commit(): void;
  rollback(): void;
  isOpen(): boolean;
}

/** Runs `body` (inside an already begun transaction), then commits; rolls back and rethrows on failure. */
export function commitOrRollback<T>(end: TransactionEnd, body: () => T): T {
  try {
    const result = body();
    end.commit();
    return result;
  } catch (error) {
    if (end.isOpen()) {
      try {
        end.rollback();
      } catch {
        // the original error is the one worth reporting
      }
    }
    throw error;
  }
}
