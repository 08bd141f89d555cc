import Database from "better-sqlite3";
import { describe, expect, it } from "vitest";
import { commitOrRollback, type TransactionEnd } from "../../src/driver/commit-or-rollback.js";

function sqliteEnd(db: Database.Database): TransactionEnd {
  return {
    commit: () => db.exec("COMMIT"),
    rollback: () => db.exec("ROLLBACK"),
    isOpen: () => db.inTransaction,
  };
}

describe("commitOrRollback", () => {
  it("commits the body's work and returns its result", () => {
    const db = new Database(":memory:");
    db.exec("CREATE TABLE t (x)");
    db.exec("BEGIN IMMEDIATE");
    expect(commitOrRollback(sqliteEnd(db), () => db.prepare("INSERT INTO t VALUES (1)").run().changes)).toBe(1);
    expect(db.inTransaction).toBe(false);
    expect(db.prepare("SELECT count(*) AS n FROM t").get()).toEqual({ n: 1 });
  });

  it("rolls back when the body throws, and rethrows the body's error", () => {
    const db = new Database(":memory:");
    db.exec("CREATE TABLE t (x)");
    db.exec("BEGIN IMMEDIATE");
    const boom = new Error("boom");
    expect(() =>
      commitOrRollback(sqliteEnd(db), () => {
        db.prepare("INSERT INTO t VALUES (1)").run();
        throw boom;
      }),
    ).toThrow(boom);
    expect(db.inTransaction).toBe(false);
    expect(db.prepare("SELECT count(*) AS n FROM t").get()).toEqual({ n: 0 });
  });

  it("reports the first error when the rollback fails too, and skips the rollback when nothing is open", () => {
    const first = new Error("commit refused");
    const calls: string[] = [];
    const end = (open: boolean): TransactionEnd => ({
      commit: () => {
        calls.push("commit");
        throw first;
      },
      rollback: () => {
        calls.push("rollback");
        throw new Error("rollback failed");
      },
      isOpen: () => open,
    });
    expect(() => commitOrRollback(end(true), () => 1)).toThrow(first);
    expect(calls).toEqual(["commit", "rollback"]);
    calls.length = 0;
    expect(() => commitOrRollback(end(false), () => 1)).toThrow(first);
    expect(calls).toEqual(["commit"]);
  });
});
