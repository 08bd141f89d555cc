// GuardedDatabase over real SQLite files with a hand-switched gate: open-time setup, the guard on
// prepare/exec/pragma at execution time, and LiteFS refusal translation.
import BetterSqlite3 from "better-sqlite3";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { GuardedDatabase } from "../../src/driver/guarded-database.js";
import { guardOf } from "../../src/driver/guarded-statement.js";
import { isLiteFSRefusalCode, translateRefusal } from "../../src/driver/refusal.js";
import { LiteFSError, NotPrimaryError, SplitBrainError, isNotPrimaryError } from "../../src/errors.js";
import { readLitefsFixture } from "../support/litefs-mount.js";
import {
  createTempDir,
  fileFingerprint,
  OpenConnections,
  seededDatabase,
  SwitchGate,
  type SwitchState,
  type TempDir,
  readCommitted,
} from "../support/switch-gate.js";

const REFUSED: readonly {
  state: Exclude<SwitchState, "primary">;
  error: typeof NotPrimaryError | typeof SplitBrainError;
}[] = [
  { state: "replica", error: NotPrimaryError },
  { state: "no-primary", error: NotPrimaryError },
  { state: "split-brain", error: SplitBrainError },
];

let dir: TempDir;
let file: string;
const connections = new OpenConnections();
const track = <T extends BetterSqlite3.Database>(db: T): T => connections.track(db);

/** A WAL database with a few rows, created on a "primary", then a guarded connection with `gate`. */
function seeded(gate: SwitchGate): GuardedDatabase {
  return track(seededDatabase(file, gate, ["a", "b"]));
}

function rows(): unknown[] {
  return readCommitted(file, (plain) => plain.prepare("SELECT id, x FROM t ORDER BY id").all());
}

beforeEach(() => {
  dir = createTempDir();
  file = dir.file("db");
});

afterEach(() => {
  connections.closeAll();
  dir.cleanup();
});

describe("opening", () => {
  it("switches a new database to WAL on a writable node, turns foreign keys on, sets the busy timeout", () => {
    const db = track(new GuardedDatabase(file, { gate: new SwitchGate("primary") }));
    expect(db.pragma("journal_mode", { simple: true })).toBe("wal");
    expect(db.pragma("foreign_keys", { simple: true })).toBe(1);
    expect(db.pragma("busy_timeout", { simple: true })).toBe(5000);
    const custom = track(new GuardedDatabase(file, { gate: new SwitchGate("primary"), busyTimeoutMs: 250 }));
    expect(custom.pragma("busy_timeout", { simple: true })).toBe(250);
  });

  it("opens an existing WAL database on a replica without changing it", () => {
    const gate = new SwitchGate("replica");
    const db = seeded(gate);
    expect(db.pragma("journal_mode", { simple: true })).toBe("wal");
    expect(db.prepare("SELECT count(*) AS n FROM t").get()).toEqual({ n: 2 });
  });

  it("refuses to create the database on a replica, with a clear error, and creates no file", () => {
    expect(() => new GuardedDatabase(file, { gate: new SwitchGate("replica") })).toThrow(
      /only the primary may create it/,
    );
    try {
      new GuardedDatabase(file, { gate: new SwitchGate("no-primary") });
    } catch (error) {
      expect(error).toBeInstanceOf(LiteFSError);
      expect((error as LiteFSError).code).toBe("LITEFS_MOUNT");
    }
    expect(fileFingerprint(file)).toBe(fileFingerprint(dir.file("never-existed")));
  });

  it("refuses a non-WAL database on a replica and says to open it on the primary first", () => {
    const plain = new BetterSqlite3(file);
    plain.exec("CREATE TABLE t(a)");
    plain.close();
    const before = fileFingerprint(file);
    expect(() => new GuardedDatabase(file, { gate: new SwitchGate("replica") })).toThrow(
      /"delete" journal mode, not WAL.*open the database on the primary first/,
    );
    expect(fileFingerprint(file)).toBe(before);
  });

  it("rejects bad options by name", () => {
    expect(() => new GuardedDatabase(file, {} as never)).toThrow(/options\.gate must be a WriteGate/);
    expect(() => new GuardedDatabase(file, { gate: new SwitchGate(), busyTimeoutMs: -1 })).toThrow(/busyTimeoutMs/);
    expect(() => new GuardedDatabase(file, { gate: new SwitchGate(), busyTimeoutMs: 1.5 })).toThrow(/busyTimeoutMs/);
    expect(() => new GuardedDatabase("  ", { gate: new SwitchGate() })).toThrow(/filename/);
  });

  it("is a better-sqlite3 Database", () => {
    const db = track(new GuardedDatabase(file, { gate: new SwitchGate() }));
    expect(db).toBeInstanceOf(BetterSqlite3);
    expect(db.isWritable()).toBe(true);
  });
});

describe("prepare: guarded at execution", () => {
  it.each(REFUSED)("refuses every mutating execution when $state, and writes nothing", ({ state, error }) => {
    const gate = new SwitchGate("primary");
    const db = seeded(gate);
    const insert = db.prepare("INSERT INTO t(x) VALUES (?)");
    const returning = db.prepare("INSERT INTO t(x) VALUES (?) RETURNING id");
    const update = db.prepare("UPDATE t SET x = ? WHERE id = 1");
    const remove = db.prepare("DELETE FROM t WHERE id = ?");
    const ddl = db.prepare("CREATE TABLE u(a)");
    db.pragma("wal_checkpoint(TRUNCATE)");
    const before = fileFingerprint(file);
    gate.state = state;
    expect(db.isWritable()).toBe(false);
    expect(() => insert.run("c")).toThrow(error);
    expect(() => returning.get("c")).toThrow(error);
    expect(() => returning.all("c")).toThrow(error);
    expect(() => returning.iterate("c").next()).toThrow(error);
    expect(() => update.run("z")).toThrow(error);
    expect(() => remove.run(1)).toThrow(error);
    expect(() => ddl.run()).toThrow(error);
    expect(() => db.prepare("INSERT INTO t(x) VALUES ('late')").run()).toThrow(error);
    expect(fileFingerprint(file)).toBe(before);
    expect(rows()).toEqual([
      { id: 1, x: "a" },
      { id: 2, x: "b" },
    ]);
  });

  it("checks at execution: prepared on a primary, refused after a demotion, runs again after promotion", () => {
    const gate = new SwitchGate("primary");
    const db = seeded(gate);
    const insert = db.prepare("INSERT INTO t(x) VALUES (?)");
    expect(insert.run("c").changes).toBe(1);
    gate.state = "replica";
    expect(() => insert.run("d")).toThrow(NotPrimaryError);
    gate.state = "primary";
    expect(insert.run("e").changes).toBe(1);
    expect(rows()).toEqual([
      { id: 1, x: "a" },
      { id: 2, x: "b" },
      { id: 3, x: "c" },
      { id: 4, x: "e" },
    ]);
  });

  it("also checks a statement prepared on a replica once the node is promoted (and runs it)", () => {
    const gate = new SwitchGate("replica");
    const db = seeded(gate);
    const insert = db.prepare("INSERT INTO t(x) VALUES (?) RETURNING x");
    gate.state = "primary";
    expect(insert.get("c")).toEqual({ x: "c" });
  });

  it("keeps the guard through raw(), bind(), pluck(), expand() and safeIntegers()", () => {
    const gate = new SwitchGate("primary");
    const db = seeded(gate);
    const returning = db.prepare("INSERT INTO t(x) VALUES (?) RETURNING id, x");
    const bound = db.prepare("INSERT INTO t(x) VALUES (?)");
    expect(returning.raw()).toBe(returning);
    expect(bound.bind("bound")).toBe(bound);
    gate.state = "replica";
    expect(() => returning.raw().all("c")).toThrow(NotPrimaryError);
    expect(() => returning.raw(false).pluck().get("c")).toThrow(NotPrimaryError);
    expect(() => returning.pluck(false).expand().get("c")).toThrow(NotPrimaryError);
    expect(() => returning.expand(false).safeIntegers().get("c")).toThrow(NotPrimaryError);
    expect(() => bound.run()).toThrow(NotPrimaryError);
    gate.state = "primary";
    expect(bound.run().changes).toBe(1);
    expect(returning.safeIntegers(false).raw().get("r")).toEqual([4, "r"]);
  });

  it("runs reads on every state without asking the gate (read statements keep the native prototype)", () => {
    for (const state of ["replica", "no-primary", "split-brain"] as const) {
      const gate = new SwitchGate(state);
      const db = track(new GuardedDatabase(dir.file(`r-${state}`), { gate: new SwitchGate("primary") }));
      db.exec("CREATE TABLE t(x)");
      db.close();
      const replica = track(new GuardedDatabase(dir.file(`r-${state}`), { gate }));
      const checksAfterOpen = gate.checks;
      const select = replica.prepare("SELECT count(*) AS n FROM t");
      expect(guardOf(select)).toBe("none");
      expect(select.get()).toEqual({ n: 0 });
      expect(select.all()).toEqual([{ n: 0 }]);
      expect([...select.iterate()]).toEqual([{ n: 0 }]);
      expect(replica.prepare("EXPLAIN INSERT INTO t VALUES (1)").all().length).toBeGreaterThan(0);
      expect(gate.checks).toBe(checksAfterOpen);
    }
  });

  it("gives mutating statements the guard and transaction control statements their own", () => {
    const db = seeded(new SwitchGate("primary"));
    expect(guardOf(db.prepare("INSERT INTO t(x) VALUES (1)"))).toBe("guarded");
    expect(guardOf(db.prepare("BEGIN IMMEDIATE"))).toBe("guarded");
    expect(guardOf(db.prepare("BEGIN"))).toBe("begin");
    expect(guardOf(db.prepare("SAVEPOINT s"))).toBe("begin");
    expect(guardOf(db.prepare("COMMIT"))).toBe("end");
    expect(guardOf(db.prepare("RELEASE s"))).toBe("end");
    expect(guardOf(db.prepare("ROLLBACK"))).toBe("translated");
    expect(guardOf(db.prepare("SELECT 1"))).toBe("none");
  });

  it("refuses BEGIN IMMEDIATE/EXCLUSIVE on a replica but runs a deferred read transaction by hand", () => {
    const gate = new SwitchGate("replica");
    const db = seeded(gate);
    expect(() => db.prepare("BEGIN IMMEDIATE").run()).toThrow(NotPrimaryError);
    expect(() => db.prepare("BEGIN EXCLUSIVE").run()).toThrow(NotPrimaryError);
    expect(db.inTransaction).toBe(false);
    db.prepare("BEGIN").run();
    expect(db.prepare("SELECT count(*) AS n FROM t").get()).toEqual({ n: 2 });
    db.prepare("SAVEPOINT s").run();
    expect(() => db.prepare("DELETE FROM t").run()).toThrow(NotPrimaryError);
    db.prepare("RELEASE s").run();
    db.prepare("COMMIT").run();
    expect(db.inTransaction).toBe(false);
    expect(rows()).toHaveLength(2);
  });
});

describe("exec", () => {
  it.each(REFUSED)("is treated as mutating: refused when $state, even for a SELECT", ({ state, error }) => {
    const gate = new SwitchGate(state);
    const db = seeded(gate);
    const before = fileFingerprint(file);
    expect(() => db.exec("INSERT INTO t(x) VALUES ('c')")).toThrow(error);
    expect(() => db.exec("SELECT 1")).toThrow(error);
    expect(fileFingerprint(file)).toBe(before);
  });

  it("runs scripts on a writable node and returns the database", () => {
    const db = seeded(new SwitchGate("primary"));
    expect(db.exec("INSERT INTO t(x) VALUES ('c'); DELETE FROM t WHERE id = 1;")).toBe(db);
    expect(rows()).toEqual([
      { id: 2, x: "b" },
      { id: 3, x: "c" },
    ]);
  });
});

describe("pragma", () => {
  it("passes reads and connection-local settings on a replica", () => {
    const gate = new SwitchGate("replica");
    const db = seeded(gate);
    expect(db.pragma("journal_mode")).toEqual([{ journal_mode: "wal" }]);
    expect(db.pragma("user_version", { simple: true })).toBe(0);
    expect(db.pragma("table_info(t)")).toHaveLength(2);
    expect(db.pragma("foreign_keys = OFF")).toEqual([]);
    expect(db.pragma("foreign_keys", { simple: true })).toBe(0);
    expect(db.pragma("cache_size = -4000")).toEqual([]);
  });

  it.each(REFUSED)("refuses pragmas that write when $state, and writes nothing", ({ state, error }) => {
    const gate = new SwitchGate(state);
    const db = seeded(gate);
    const before = fileFingerprint(file);
    for (const source of [
      "user_version = 3",
      "application_id = 9",
      "journal_mode = DELETE",
      "optimize",
      "wal_checkpoint(TRUNCATE)",
      "incremental_vacuum",
    ]) {
      expect(() => db.pragma(source), source).toThrow(error);
    }
    expect(db.pragma("journal_mode", { simple: true })).toBe("wal");
    expect(fileFingerprint(file)).toBe(before);
  });

  it("runs pragma writes on a writable node", () => {
    const db = seeded(new SwitchGate("primary"));
    expect(db.pragma("user_version = 3")).toEqual([]);
    expect(db.pragma("user_version", { simple: true })).toBe(3);
  });
});

describe("LiteFS refusals that slip through", () => {
  it("become NotPrimaryError with the SQLite error as cause when the gate, asked again, refuses", () => {
    // SQLITE_READONLY from a read-only connection stands in for LiteFS's refusal; the gate is
    // demoted between the driver's check and SQLite running the write.
    seeded(new SwitchGate("primary")).close();
    const gate = new SwitchGate("primary");
    const db = track(new GuardedDatabase(file, { gate, readonly: true }));
    const insert = db.prepare("INSERT INTO t(x) VALUES ('c')");
    gate.switchAfterNextCheck = "replica";
    let thrown: unknown;
    try {
      insert.run();
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(NotPrimaryError);
    expect((thrown as NotPrimaryError).reason).toBe("litefs-refused");
    expect((thrown as NotPrimaryError).primary).toBe("node-a");
    expect((thrown as NotPrimaryError).message).toMatch(/SQLITE_READONLY/);
    expect(((thrown as Error).cause as { code?: string }).code).toBe("SQLITE_READONLY");
    expect(rows()).toHaveLength(2);
  });

  it("stay SQLite errors when the node is writable (e.g. a connection opened read-only)", () => {
    seeded(new SwitchGate("primary")).close();
    const db = track(new GuardedDatabase(file, { gate: new SwitchGate("primary"), readonly: true }));
    expect(() => db.prepare("INSERT INTO t(x) VALUES ('c')").run()).toThrow(
      expect.objectContaining({ code: "SQLITE_READONLY" }) as unknown,
    );
  });

  it("translates every error code LiteFS 0.5.14 produced on a replica (recorded fixture)", () => {
    const codes = [...readLitefsFixture("replica-write-attempts.txt").matchAll(/THROW SqliteError (\{.*\})/g)].map(
      (m) => JSON.parse(m[1] ?? "{}") as { code: string; message: string },
    );
    expect(codes.map((c) => c.code)).toEqual([
      "SQLITE_IOERR_WRITE",
      "SQLITE_IOERR_WRITE",
      "SQLITE_IOERR_WRITE",
      "SQLITE_READONLY_DIRECTORY",
    ]);
    for (const { code, message } of codes) {
      const original = new BetterSqlite3.SqliteError(message, code);
      expect(isLiteFSRefusalCode(code)).toBe(true);
      const onReplica = translateRefusal(new SwitchGate("replica"), original);
      expect(onReplica).toBeInstanceOf(NotPrimaryError);
      expect(isNotPrimaryError(onReplica)).toBe(true);
      expect((onReplica as Error).cause).toBe(original);
      expect(translateRefusal(new SwitchGate("primary"), original)).toBe(original);
    }
  });

  it("leaves other errors alone", () => {
    const gate = new SwitchGate("replica");
    const constraint = new BetterSqlite3.SqliteError("UNIQUE constraint failed", "SQLITE_CONSTRAINT_UNIQUE");
    expect(translateRefusal(gate, constraint)).toBe(constraint);
    const plain = new Error("boom");
    expect(translateRefusal(gate, plain)).toBe(plain);
    expect(translateRefusal(gate, null)).toBe(null);
    expect(gate.checks).toBe(0);
  });
});
