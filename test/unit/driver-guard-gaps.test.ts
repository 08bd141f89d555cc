// The gaps found by trying to get a write through the guard (issue 17), and a connection that
// outlived a LiteFS restart (issue 12, item 7). Every case is checked from a second, plain
// connection: "refused" means nothing landed in the file, not only that an error was thrown.
import BetterSqlite3 from "better-sqlite3";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { GuardedDatabase } from "../../src/driver/guarded-database.js";
import { NotPrimaryError, SplitBrainError, StaleConnectionError, isStaleConnectionError } from "../../src/errors.js";
import {
  createTempDir,
  fileFingerprint,
  OpenConnections,
  seededDatabase,
  SwitchGate,
  type TempDir,
  readCommitted,
} from "../support/switch-gate.js";

let dir: TempDir;
let file: string;
const connections = new OpenConnections();
const track = <T extends BetterSqlite3.Database>(db: T): T => connections.track(db);

/** A WAL database with one row, created on a "primary", then a guarded connection with `gate`. */
function seeded(gate: SwitchGate): GuardedDatabase {
  return track(seededDatabase(file, gate, ["a"]));
}

/** The rows as a second connection sees them (what another process, or LiteFS, would ship). */
const TRIGGER_COUNT = "SELECT count(*) FROM sqlite_master WHERE name = 'trg'";

function committedRows(): string[] {
  return readCommitted(file, (plain) => plain.prepare("SELECT x FROM t ORDER BY id").pluck().all() as string[]);
}

beforeEach(() => {
  dir = createTempDir();
  file = dir.file("db");
});

afterEach(() => {
  connections.closeAll();
  dir.cleanup();
});

describe("a COMMIT/END/RELEASE that ends a write transaction asks the gate (17.1)", () => {
  const HAND_WRITTEN: readonly { name: string; begin: string; end: string }[] = [
    { name: "BEGIN IMMEDIATE ... COMMIT", begin: "BEGIN IMMEDIATE", end: "COMMIT" },
    { name: "BEGIN IMMEDIATE ... END", begin: "BEGIN IMMEDIATE", end: "END TRANSACTION" },
    { name: "BEGIN (deferred) ... COMMIT", begin: "BEGIN", end: "COMMIT" },
    { name: "SAVEPOINT ... RELEASE (outermost)", begin: "SAVEPOINT outer_sp", end: "RELEASE outer_sp" },
  ];

  it.each(HAND_WRITTEN)(
    "prepare(...).run(): $name, gate closed before the end: rolled back, nothing lands",
    ({ begin, end }) => {
      const gate = new SwitchGate("primary");
      const db = seeded(gate);
      db.prepare(begin).run();
      db.prepare("INSERT INTO t(x) VALUES ('in-tx')").run();
      gate.state = "split-brain";
      expect(() => db.prepare(end).run()).toThrow(SplitBrainError);
      expect(db.inTransaction).toBe(false);
      expect(committedRows()).toEqual(["a"]);
      // The gate opening again later cannot land it either: it is gone.
      gate.state = "primary";
      expect(() => db.prepare("COMMIT").run()).toThrow(/no transaction is active/);
      expect(committedRows()).toEqual(["a"]);
    },
  );

  it('exec("COMMIT") refused: the transaction is rolled back', () => {
    const gate = new SwitchGate("primary");
    const db = seeded(gate);
    db.exec("BEGIN IMMEDIATE");
    db.prepare("INSERT INTO t(x) VALUES ('in-tx')").run();
    gate.state = "replica";
    expect(() => db.exec("COMMIT")).toThrow(NotPrimaryError);
    expect(db.inTransaction).toBe(false);
    gate.state = "primary";
    expect(committedRows()).toEqual(["a"]);
  });

  it("RELEASE of an inner savepoint of a write transaction refused: the whole transaction is rolled back", () => {
    const gate = new SwitchGate("primary");
    const db = seeded(gate);
    db.prepare("BEGIN IMMEDIATE").run();
    db.prepare("INSERT INTO t(x) VALUES ('outer')").run();
    db.prepare("SAVEPOINT inner_sp").run();
    db.prepare("INSERT INTO t(x) VALUES ('inner')").run();
    gate.state = "no-primary";
    expect(() => db.prepare("RELEASE inner_sp").run()).toThrow(NotPrimaryError);
    expect(db.inTransaction).toBe(false);
    expect(committedRows()).toEqual(["a"]);
  });

  it("commits while the gate stays open, and checks only transactions that wrote", () => {
    const gate = new SwitchGate("primary");
    const db = seeded(gate);
    db.prepare("BEGIN IMMEDIATE").run();
    db.prepare("INSERT INTO t(x) VALUES ('b')").run();
    const checksBeforeCommit = gate.checks;
    db.prepare("COMMIT").run();
    expect(gate.checks).toBe(checksBeforeCommit + 1);
    expect(committedRows()).toEqual(["a", "b"]);

    // A read transaction on a replica commits without asking (and nothing is refused).
    gate.state = "replica";
    db.prepare("BEGIN").run();
    expect(db.prepare("SELECT count(*) FROM t").pluck().get()).toBe(2);
    const checksInRead = gate.checks;
    db.prepare("COMMIT").run();
    db.prepare("SAVEPOINT r").run();
    db.prepare("RELEASE r").run();
    expect(gate.checks).toBe(checksInRead);
    expect(db.inTransaction).toBe(false);
  });

  it("an autocommit write before a read transaction does not make that transaction's COMMIT refusable", () => {
    const gate = new SwitchGate("primary");
    const db = seeded(gate);
    db.prepare("INSERT INTO t(x) VALUES ('b')").run();
    gate.state = "replica";
    db.prepare("BEGIN").run();
    db.prepare("SELECT x FROM t").all();
    expect(() => db.prepare("COMMIT").run()).not.toThrow();
  });

  it("db.transaction() begun on a replica: a write let in by a promotion is checked again at COMMIT", () => {
    const gate = new SwitchGate("replica");
    const db = seeded(gate);
    const tx = db.transaction(() => {
      gate.state = "primary"; // promoted while the function runs
      db.prepare("INSERT INTO t(x) VALUES ('in-tx')").run();
      gate.state = "split-brain"; // and in split brain before it returns
    });
    expect(() => tx()).toThrow(SplitBrainError);
    expect(db.inTransaction).toBe(false);
    gate.state = "primary";
    expect(committedRows()).toEqual(["a"]);
  });
});

describe("a statement's class survives a schema change under it (17.2)", () => {
  it("DROP TRIGGER IF EXISTS prepared before the trigger exists is refused on a replica once replication creates it", () => {
    const gate = new SwitchGate("replica");
    const db = seeded(gate);
    const drop = db.prepare("DROP TRIGGER IF EXISTS trg");
    // A second connection stands in for LiteFS applying the primary's schema change.
    const replication = new BetterSqlite3(file);
    replication.exec("CREATE TRIGGER trg AFTER INSERT ON t BEGIN SELECT 1; END");
    replication.close();
    const before = fileFingerprint(file);
    expect(() => drop.run()).toThrow(NotPrimaryError);
    expect(fileFingerprint(file)).toBe(before);
    expect(readCommitted(file, (check) => check.prepare(TRIGGER_COUNT).pluck().get())).toBe(1);
  });

  it("CREATE TRIGGER IF NOT EXISTS prepared while the trigger exists is refused on a replica after it was dropped", () => {
    const gate = new SwitchGate("primary");
    const db = seeded(gate);
    db.exec("CREATE TRIGGER trg AFTER INSERT ON t BEGIN SELECT 1; END");
    const create = db.prepare("CREATE TRIGGER IF NOT EXISTS trg AFTER INSERT ON t BEGIN SELECT 1; END");
    gate.state = "replica";
    const replication = new BetterSqlite3(file);
    replication.exec("DROP TRIGGER trg");
    replication.close();
    expect(() => create.run()).toThrow(NotPrimaryError);
    expect(readCommitted(file, (check) => check.prepare(TRIGGER_COUNT).pluck().get())).toBe(0);
  });

  it("still runs such a statement on a primary", () => {
    const db = seeded(new SwitchGate("primary"));
    const drop = db.prepare("DROP TRIGGER IF EXISTS trg");
    expect(drop.run().changes).toBe(0);
  });
});

describe("iterate() asks the gate at the first step, when SQLite runs the statement (17.3)", () => {
  it("INSERT ... RETURNING: iterator made on a primary, node demoted before next(): refused, nothing written", () => {
    const gate = new SwitchGate("primary");
    const db = seeded(gate);
    const insert = db.prepare("INSERT INTO t(x) VALUES (?) RETURNING x");
    const rows = insert.iterate("late");
    gate.state = "replica";
    expect(() => rows.next()).toThrow(NotPrimaryError);
    expect(committedRows()).toEqual(["a"]);
    // The refused iterator released the connection.
    gate.state = "primary";
    expect(db.prepare("SELECT count(*) FROM t").pluck().get()).toBe(1);
    expect([...insert.iterate("b")]).toEqual([{ x: "b" }]);
    expect(committedRows()).toEqual(["a", "b"]);
  });

  it("an iterator that is closed early frees the statement", () => {
    const gate = new SwitchGate("primary");
    const db = seeded(gate);
    const insert = db.prepare("INSERT INTO t(x) VALUES ('c'), ('d') RETURNING x");
    for (const row of insert.iterate()) {
      expect(row).toEqual({ x: "c" });
      break;
    }
    expect(db.prepare("SELECT count(*) FROM t").pluck().get()).toBeGreaterThan(1);
  });
});

describe("a connection that outlived a LiteFS restart (12.7)", () => {
  // Without FUSE there is no way to make SQLite's WAL lock protocol fail for real (the real
  // failure: the connection's files belong to the old mount; each write hangs ~10 s in SQLite,
  // then SQLITE_PROTOCOL). Stand-in: a SQL function that throws the SqliteError SQLite raises
  // then, so the write fails with exactly that code where SQLite would report it.
  function withProtocolFailure(db: GuardedDatabase): { calls: () => number } {
    let calls = 0;
    db.function("litefs_restarted", () => {
      calls++;
      throw new BetterSqlite3.SqliteError("locking protocol", "SQLITE_PROTOCOL");
    });
    return { calls: () => calls };
  }

  it("SQLITE_PROTOCOL becomes a StaleConnectionError saying to reopen; later uses fail at once with it", () => {
    const db = seeded(new SwitchGate("primary"));
    const failure = withProtocolFailure(db);
    const insert = db.prepare("INSERT INTO t(x) VALUES (litefs_restarted())");
    let first: unknown;
    try {
      insert.run();
    } catch (error) {
      first = error;
    }
    expect(first).toBeInstanceOf(StaleConnectionError);
    expect(isStaleConnectionError(first)).toBe(true);
    expect((first as StaleConnectionError).code).toBe("LITEFS_STALE_CONNECTION");
    expect((first as Error).message).toMatch(/outlived a restart of LiteFS.*open the database again/);
    expect(((first as Error).cause as { code: string }).code).toBe("SQLITE_PROTOCOL");
    expect(failure.calls()).toBe(1);

    // Every later write, script, pragma write and transaction fails at once: SQLite never runs
    // (on the real failure that is another 10 s hang each).
    expect(() => insert.run()).toThrow(StaleConnectionError);
    expect(() => db.prepare("INSERT INTO t(x) VALUES ('b')").run()).toThrow(StaleConnectionError);
    expect(() => db.exec("INSERT INTO t(x) VALUES ('b')")).toThrow(StaleConnectionError);
    expect(() => db.pragma("user_version = 2")).toThrow(StaleConnectionError);
    expect(() => db.transaction(() => 1)()).toThrow(StaleConnectionError);
    expect(db.isWritable()).toBe(false);
    expect(failure.calls()).toBe(1);
    expect(committedRows()).toEqual(["a"]);

    // What the message says to do works: a new connection writes.
    db.close();
    const reopened = track(new GuardedDatabase(file, { gate: new SwitchGate("primary") }));
    reopened.prepare("INSERT INTO t(x) VALUES ('b')").run();
    expect(committedRows()).toEqual(["a", "b"]);
  });

  it("is translated inside db.transaction() too", () => {
    const db = seeded(new SwitchGate("primary"));
    withProtocolFailure(db);
    const tx = db.transaction(() => db.prepare("INSERT INTO t(x) VALUES (litefs_restarted())").run());
    for (let attempt = 0; attempt < 2; attempt++) {
      let thrown: unknown;
      try {
        tx();
      } catch (error) {
        thrown = error;
      }
      expect((thrown as { code?: string }).code).toBe("LITEFS_STALE_CONNECTION");
      expect(db.inTransaction).toBe(false);
    }
  });
});

describe("opening a missing database on a node that is not a plain replica (17.5)", () => {
  it("split brain: SplitBrainError, not 'only the primary may create it'", () => {
    expect(() => new GuardedDatabase(file, { gate: new SwitchGate("split-brain") })).toThrow(SplitBrainError);
  });

  it("a plain replica: still says only the primary may create it", () => {
    expect(() => new GuardedDatabase(file, { gate: new SwitchGate("replica") })).toThrow(
      /only the primary may create it/,
    );
  });
});
