// openGuardedDatabase and the Drizzle entry in dev mode (enabled: false): the path comes from
// the settings, the directory is created, the node is always writable, `$close` closes what the
// entry opened and nothing else.
import { existsSync } from "node:fs";
import { join } from "node:path";
import { sql } from "drizzle-orm";
import { afterEach, describe, expect, it } from "vitest";
import { loadSettings } from "../../src/config/index.js";
import { drizzle, GuardedDatabase } from "../../src/driver/drizzle/index.js";
import { applyStatementGuard, guardOf } from "../../src/driver/guarded-statement.js";
import { openGuardedDatabase } from "../../src/driver/open.js";
import { openNode } from "../../src/node/node.js";
import { createTempDir, SwitchGate, type TempDir } from "../support/switch-gate.js";

let dir: TempDir;
afterEach(() => dir?.cleanup());

function devSettings(path: string) {
  return loadSettings({ enabled: false, devDatabasePath: path }, {});
}

describe("openGuardedDatabase", () => {
  it("opens devDatabasePath in dev mode, creating its directory, writable, in WAL", () => {
    dir = createTempDir();
    const file = join(dir.path, "nested", "deeper", "app.db");
    const settings = devSettings(file);
    const db = openGuardedDatabase(settings, openNode(settings), { busyTimeoutMs: 1234 });
    try {
      expect(db).toBeInstanceOf(GuardedDatabase);
      expect(db.name).toBe(file);
      expect(db.isWritable()).toBe(true);
      expect(db.pragma("journal_mode", { simple: true })).toBe("wal");
      expect(db.pragma("busy_timeout", { simple: true })).toBe(1234);
      db.exec("CREATE TABLE t(a)");
      expect(existsSync(file)).toBe(true);
    } finally {
      db.close();
    }
  });
});

describe("drizzle() in dev mode", () => {
  it("returns a working Drizzle database with $client and $node, and $close closes both", async () => {
    dir = createTempDir();
    const db = drizzle({ settings: devSettings(join(dir.path, "dev", "db")) });
    expect(db.$client).toBeInstanceOf(GuardedDatabase);
    expect(db.$node.role).toBe("primary");
    expect(db.$node.settings.enabled).toBe(false);
    db.run(sql`CREATE TABLE t(a INTEGER)`);
    db.run(sql`INSERT INTO t VALUES (1), (2)`);
    expect(db.all(sql`SELECT a FROM t ORDER BY a`)).toEqual([{ a: 1 }, { a: 2 }]);
    await db.$close();
    expect(db.$client.open).toBe(false);
    await db.$close(); // idempotent
  });

  it("takes the settings from a given node and leaves that node open", async () => {
    dir = createTempDir();
    const node = openNode(devSettings(join(dir.path, "db")));
    let closed = false;
    const close = node.close.bind(node);
    node.close = async () => {
      closed = true;
      await close();
    };
    const db = drizzle({ node });
    expect(db.$node).toBe(node);
    expect(db.$client.name).toBe(join(dir.path, "db"));
    await db.$close();
    expect(closed).toBe(false);
  });
});

describe("guard prototypes", () => {
  it("are shared: two mutating statements have the same prototype (no per-statement closures)", () => {
    dir = createTempDir();
    const db = new GuardedDatabase(dir.file("db"), { gate: new SwitchGate("primary") });
    try {
      db.exec("CREATE TABLE t(a)");
      const a = db.prepare("INSERT INTO t VALUES (1)");
      const b = db.prepare("DELETE FROM t");
      expect(Object.getPrototypeOf(a)).toBe(Object.getPrototypeOf(b));
      expect(Object.getOwnPropertyNames(a)).toEqual(Object.getOwnPropertyNames(db.prepare("SELECT 1")));
      expect(a.run).toBe(b.run);
      expect(guardOf(applyStatementGuard(db.prepare("SELECT 1"), "read"))).toBe("none");
    } finally {
      db.close();
    }
  });
});
