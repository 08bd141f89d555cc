// GuardedDatabase.transaction(): BEGIN IMMEDIATE on a writable node whatever variant is asked,
// a read transaction on a node that may not write, savepoints when nested, no commit after a
// demotion. Lock state is observed from a second, plain connection.
import BetterSqlite3 from "better-sqlite3";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { GuardedDatabase } from "../../src/driver/guarded-database.js";
import { NotPrimaryError, SplitBrainError } from "../../src/errors.js";
import {
  createTempDir,
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

function guarded(gate: SwitchGate): GuardedDatabase {
  return track(seededDatabase(file, gate, ["a"]));
}

/** True when another connection cannot take the write lock right now. */
function writeLockHeldElsewhere(): boolean {
  const other = new BetterSqlite3(file, { timeout: 0 });
  try {
    other.prepare("BEGIN IMMEDIATE").run();
    other.prepare("ROLLBACK").run();
    return false;
  } catch (error) {
    if ((error as { code?: string }).code === "SQLITE_BUSY") return true;
    throw error;
  } finally {
    other.close();
  }
}

function count(): number {
  return readCommitted(file, (plain) => (plain.prepare("SELECT count(*) AS n FROM t").get() as { n: number }).n);
}

beforeEach(() => {
  dir = createTempDir();
  file = dir.file("db");
});

afterEach(() => {
  connections.closeAll();
  dir.cleanup();
});

const VARIANTS = ["default", "deferred", "immediate", "exclusive"] as const;

describe("on a writable node", () => {
  it.each(VARIANTS)("%s runs as BEGIN IMMEDIATE: the write lock is held before the first write", (variant) => {
    const db = guarded(new SwitchGate("primary"));
    const tx = db.transaction(() => {
      const held = writeLockHeldElsewhere();
      db.prepare("INSERT INTO t(x) VALUES ('b')").run();
      return held;
    });
    const run = variant === "default" ? tx : tx[variant];
    expect(run()).toBe(true);
    expect(db.inTransaction).toBe(false);
    expect(count()).toBe(2);
  });

  it("passes arguments and this, returns the result, exposes the variants and the database", () => {
    const db = guarded(new SwitchGate("primary"));
    const tx = db.transaction(function (this: unknown, a: number, b: number) {
      return { sum: a + b, self: this };
    });
    expect(tx(2, 3).sum).toBe(5);
    expect(tx.deferred(1, 1).self).toBe(tx);
    expect(typeof tx.immediate).toBe("function");
    expect(typeof tx.exclusive).toBe("function");
    expect(typeof tx.default).toBe("function");
    expect((tx as unknown as { database: unknown }).database).toBe(db);
  });

  it("rolls back when the function throws", () => {
    const db = guarded(new SwitchGate("primary"));
    const tx = db.transaction(() => {
      db.prepare("INSERT INTO t(x) VALUES ('b')").run();
      throw new Error("nope");
    });
    expect(() => tx()).toThrow("nope");
    expect(db.inTransaction).toBe(false);
    expect(count()).toBe(1);
  });

  it("refuses a function that returns a promise, and rolls back", () => {
    const db = guarded(new SwitchGate("primary"));
    const tx = db.transaction(() => {
      db.prepare("INSERT INTO t(x) VALUES ('b')").run();
      return Promise.resolve(1);
    });
    expect(() => tx()).toThrow(/cannot return a promise/);
    expect(count()).toBe(1);
  });

  it("nests with savepoints: an inner failure rolls back only the inner part", () => {
    const db = guarded(new SwitchGate("primary"));
    const insert = db.prepare("INSERT INTO t(x) VALUES (?)");
    const inner = db.transaction((x: string) => {
      insert.run(x);
      if (x === "bad") throw new Error("inner failed");
    });
    const outer = db.transaction(() => {
      insert.run("outer");
      inner("good");
      expect(() => inner("bad")).toThrow("inner failed");
      expect(db.inTransaction).toBe(true);
      db.transaction(() => db.transaction(() => insert.run("deep"))())();
    });
    outer.deferred();
    const xs = db.prepare("SELECT x FROM t ORDER BY id").pluck().all();
    expect(xs).toEqual(["a", "outer", "good", "deep"]);
  });

  it("does not commit when the node is demoted while the function runs", () => {
    const gate = new SwitchGate("primary");
    const db = guarded(gate);
    const tx = db.transaction(() => {
      db.prepare("INSERT INTO t(x) VALUES ('b')").run();
      gate.state = "replica";
    });
    expect(() => tx()).toThrow(NotPrimaryError);
    expect(db.inTransaction).toBe(false);
    expect(count()).toBe(1);
  });

  it("refuses the first write after a demotion inside the transaction, and rolls back", () => {
    const gate = new SwitchGate("primary");
    const db = guarded(gate);
    const insert = db.prepare("INSERT INTO t(x) VALUES (?)");
    const tx = db.transaction(() => {
      insert.run("b");
      gate.state = "split-brain";
      insert.run("c");
    });
    expect(() => tx.immediate()).toThrow(SplitBrainError);
    expect(count()).toBe(1);
  });
});

describe.each(["replica", "no-primary", "split-brain"] as const)("when %s", (state) => {
  it.each(VARIANTS)("%s runs as a read transaction (BEGIN DEFERRED): reads work, no write lock", (variant) => {
    const db = guarded(new SwitchGate(state));
    const tx = db.transaction(() => ({
      n: (db.prepare("SELECT count(*) AS n FROM t").get() as { n: number }).n,
      held: writeLockHeldElsewhere(),
      inTransaction: db.inTransaction,
    }));
    const run = variant === "default" ? tx : tx[variant];
    expect(run()).toEqual({ n: 1, held: false, inTransaction: true });
    expect(db.inTransaction).toBe(false);
  });

  it("refuses the first mutating statement inside, rolls back, writes nothing", () => {
    const gate = new SwitchGate(state);
    const db = guarded(gate);
    let readInside = -1;
    const tx = db.transaction(() => {
      readInside = (db.prepare("SELECT count(*) AS n FROM t").get() as { n: number }).n;
      db.prepare("INSERT INTO t(x) VALUES ('b')").run();
    });
    expect(() => tx()).toThrow(state === "split-brain" ? SplitBrainError : NotPrimaryError);
    expect(readInside).toBe(1);
    expect(db.inTransaction).toBe(false);
    expect(count()).toBe(1);
  });

  it("nests read transactions with savepoints", () => {
    const db = guarded(new SwitchGate(state));
    const select = db.prepare("SELECT x FROM t");
    const result = db.transaction(() => db.transaction(() => select.pluck().all())())();
    expect(result).toEqual(["a"]);
  });
});

it("a transaction started on a replica may write once the node is promoted (checked per statement)", () => {
  const gate = new SwitchGate("replica");
  const db = guarded(gate);
  db.transaction(() => {
    gate.state = "primary";
    db.prepare("INSERT INTO t(x) VALUES ('b')").run();
  })();
  expect(count()).toBe(2);
});
