// litefs-node/drizzle speaks drizzle-orm's better-sqlite3 call forms (drizzle(path),
// drizzle(path, config), drizzle({ connection, ...config }), drizzle({ client, node })) and
// passes Drizzle's own config through; litefs-node/drizzle/migrator is drizzle-orm's
// migrate(db, { migrationsFolder }) run by the primary-only applier.
import { existsSync } from "node:fs";
import { join } from "node:path";
import BetterSqlite3 from "better-sqlite3";
import { sql } from "drizzle-orm";
import { integer, sqliteTable, text } from "drizzle-orm/sqlite-core";
import { afterEach, describe, expect, it } from "vitest";
import { loadSettings } from "../../src/config/index.js";
import { settingsWithSource } from "../../src/driver/drizzle/connection.js";
import type { GuardedDatabase } from "../../src/driver/drizzle/index.js";
import { ConfigError, drizzle } from "../../src/driver/drizzle/index.js";
import { migrate } from "../../src/driver/drizzle/migrator.js";
import { openGuardedDatabase } from "../../src/driver/open.js";
import { openNode } from "../../src/node/node.js";
import { createTempMount, type TempMount } from "../support/litefs-mount.js";
import { createTempDir, type TempDir } from "../support/switch-gate.js";

const EXAMPLE_MIGRATIONS = join(import.meta.dirname, "..", "..", "examples", "drizzle");

let dir: TempDir | undefined;
let mount: TempMount | undefined;
const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
  dir?.cleanup();
  mount?.cleanup();
  dir = undefined;
  mount = undefined;
});

const devSettings = (path: string) => loadSettings({ enabled: false, devDatabasePath: path }, {});

function staticSettings(m: TempMount, nodeId: string) {
  return loadSettings(
    {
      nodeId,
      primaryHostname: "node-a",
      mountPath: m.path,
      dataPath: `${m.path}-data`,
      databaseName: m.databaseName,
      httpAddr: "127.0.0.1:1",
    },
    {},
  );
}

function track<T extends { $close(): Promise<void> }>(db: T): T {
  closers.push(() => db.$close());
  return db;
}

describe("drizzle() call forms", () => {
  it("drizzle(path, config) opens that file in dev mode, with the config's settings", () => {
    dir = createTempDir();
    const file = join(dir.path, "elsewhere", "app.db");
    const db = track(drizzle(file, { settings: devSettings(join(dir.path, "default.db")) }));
    expect(db.$client.name).toBe(file);
    expect(existsSync(file)).toBe(true);
    expect(existsSync(join(dir.path, "default.db"))).toBe(false);
  });

  it("drizzle(relativePath) resolves against the working directory, as drizzle-orm does", () => {
    dir = createTempDir();
    const settings = devSettings(join(dir.path, "default.db"));
    const cwd = process.cwd();
    process.chdir(dir.path); // vitest runs this file in a forked process of its own
    try {
      const db = track(drizzle({ settings, connection: "relative-app.db" }));
      expect(db.$client.name).toBe(join(dir.path, "relative-app.db"));
    } finally {
      process.chdir(cwd);
    }
  });

  it("drizzle({ connection: { source, timeout } }) sets the file and the busy timeout", () => {
    dir = createTempDir();
    const file = join(dir.path, "c.db");
    const db = track(
      drizzle({ settings: devSettings(join(dir.path, "default.db")), connection: { source: file, timeout: 1234 } }),
    );
    expect(db.$client.name).toBe(file);
    expect(db.$client.pragma("busy_timeout", { simple: true })).toBe(1234);
  });

  it("passes Drizzle's config through: logger and casing", () => {
    dir = createTempDir();
    const queries: string[] = [];
    const items = sqliteTable("items", { id: integer().primaryKey(), itemName: text().notNull() });
    const db = track(
      drizzle(join(dir.path, "cfg.db"), {
        settings: devSettings(join(dir.path, "default.db")),
        schema: { items },
        casing: "snake_case",
        logger: { logQuery: (query) => queries.push(query) },
      }),
    );
    db.run(sql`CREATE TABLE items (id INTEGER PRIMARY KEY, item_name TEXT NOT NULL)`);
    db.insert(items).values({ itemName: "a" }).run();
    expect(db.select().from(items).all()).toEqual([{ id: 1, itemName: "a" }]);
    expect(queries.some((q) => q.includes('"item_name"'))).toBe(true);
    expect(db.query.items).toBeDefined();
  });

  it("drizzle({ client, node }) uses a GuardedDatabase of that node and leaves it open", async () => {
    dir = createTempDir();
    const settings = devSettings(join(dir.path, "client.db"));
    const node = openNode(settings);
    const client = openGuardedDatabase(settings, node);
    const db = drizzle({ client, node });
    expect(db.$client).toBe(client);
    await db.$close();
    expect(client.open).toBe(true);
    client.close();
    expect(() => drizzle({ client: openGuardedDatabase(settings, node) })).toThrow(/pass the `node`/);
  });

  it("refuses an unguarded better-sqlite3 Database and in-memory databases", () => {
    const tmp = createTempDir();
    dir = tmp;
    const raw = new BetterSqlite3(join(tmp.path, "raw.db"));
    try {
      expect(() => drizzle(raw as unknown as string)).toThrow(/guarded connection/);
      expect(() =>
        drizzle({ client: raw as unknown as GuardedDatabase, node: openNode(devSettings(join(tmp.path, "x.db"))) }),
      ).toThrow(/gate/);
    } finally {
      raw.close();
    }
    expect(() => drizzle(":memory:", { settings: devSettings(join(tmp.path, "d.db")) })).toThrow(ConfigError);
  });
});

describe("the database source in LiteFS mode", () => {
  it("names a file inside the mount", () => {
    mount = createTempMount({ role: "primary" });
    const settings = staticSettings(mount, "node-a");
    expect(settingsWithSource(settings, "app.db").databaseName).toBe("app.db");
    expect(settingsWithSource(settings, join(mount.path, "other.db")).databaseName).toBe("other.db");
    for (const bad of ["../app.db", "/elsewhere/app.db", "dir/app.db", "", ":memory:"]) {
      const run = () => settingsWithSource(settings, bad);
      expect(run, bad).toThrow(ConfigError);
      expect(run, bad).toThrow(/connection\.source/);
    }
  });
});

describe("litefs-node/drizzle/migrator", () => {
  it("migrate(db, { migrationsFolder }) applies drizzle-kit's folder on a writable node, once", async () => {
    dir = createTempDir();
    const db = track(drizzle(join(dir.path, "m.db"), { settings: devSettings(join(dir.path, "default.db")) }));
    const first = await migrate(db, { migrationsFolder: EXAMPLE_MIGRATIONS });
    expect(first).toMatchObject({ role: "primary", applied: ["0000_init", "0001_add_pinned"] });
    expect(db.all(sql`SELECT name FROM sqlite_master WHERE name = 'notes'`)).toEqual([{ name: "notes" }]);
    expect((await migrate(db, { migrationsFolder: EXAMPLE_MIGRATIONS })).applied).toEqual([]);
  });

  it("skips on a replica: the primary migrates, LiteFS replicates", async () => {
    mount = createTempMount({ role: "primary" });
    // The replica's database exists (replicated) and is in WAL mode, as LiteFS would have it.
    const seed = new BetterSqlite3(join(mount.path, mount.databaseName));
    seed.pragma("journal_mode = wal");
    seed.close();
    mount.setReplica({ primary: "node-a" });
    const db = track(
      drizzle({ settings: staticSettings(mount, "node-b"), nodeOptions: { readyTimeoutMs: 200, pollIntervalMs: 0 } }),
    );
    const result = await migrate(db, { migrationsFolder: EXAMPLE_MIGRATIONS });
    expect(result).toEqual({ role: "replica", applied: [], waitedMs: null });
    expect(db.all(sql`SELECT name FROM sqlite_master WHERE name = 'notes'`)).toEqual([]);
  });

  it("refuses a database that litefs-node did not open", async () => {
    await expect(migrate({} as never, { migrationsFolder: EXAMPLE_MIGRATIONS })).rejects.toThrow(
      /litefs-node\/drizzle/,
    );
  });
});
