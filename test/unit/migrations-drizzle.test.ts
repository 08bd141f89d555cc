// The drizzle applier against drizzle-orm itself: same migrations read from the same folder,
// same bookkeeping rows, each one accepting the other's database as migrated.
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import Database from "better-sqlite3";
import { drizzle } from "drizzle-orm/better-sqlite3";
import { migrate } from "drizzle-orm/better-sqlite3/migrator";
import { readMigrationFiles } from "drizzle-orm/migrator";
import { afterEach, describe, expect, it } from "vitest";
import {
  applyDrizzleMigrations,
  isMigrationError,
  missingDrizzleMigrations,
  readDrizzleFolder,
  type MigrationError,
} from "../../migrations-guard/index.js";
import { GuardedDatabase } from "../../src/driver/guarded-database.js";
import { isNotPrimaryError } from "../../src/errors.js";
import { Cleanups, EXAMPLE_DRIZZLE_FOLDER, copyFolder, tempDir } from "../support/migrations/cluster.js";
import { SwitchGate } from "../support/switch-gate.js";

const cleanups = new Cleanups();
afterEach(() => cleanups.run());

function guarded(file: string, gate = new SwitchGate("primary")): GuardedDatabase {
  const db = new GuardedDatabase(file, { gate });
  cleanups.add(() => {
    if (db.open) db.close();
  });
  return db;
}

function rows(file: string): { id: unknown; hash: string; created_at: number }[] {
  const db = new Database(file, { readonly: true });
  try {
    return db.prepare("SELECT id, hash, created_at FROM __drizzle_migrations ORDER BY created_at").all() as never;
  } finally {
    db.close();
  }
}

function schemaOf(file: string): { type: string; name: string; sql: string | null }[] {
  const db = new Database(file, { readonly: true });
  try {
    return db
      .prepare(
        "SELECT type, name, sql FROM sqlite_master WHERE name <> '__drizzle_migrations' AND name NOT LIKE 'sqlite_%' ORDER BY name",
      )
      .all() as never;
  } finally {
    db.close();
  }
}

/** A folder with the first `count` migrations of the example folder (journal trimmed). */
function firstMigrations(count: number): string {
  const folder = copyFolder(cleanups, EXAMPLE_DRIZZLE_FOLDER);
  const journalFile = join(folder, "meta", "_journal.json");
  const journal = JSON.parse(readFileSync(journalFile, "utf8")) as { entries: unknown[] };
  journal.entries = journal.entries.slice(0, count);
  writeFileSync(journalFile, JSON.stringify(journal));
  return folder;
}

describe("readDrizzleFolder", () => {
  it("reads drizzle-kit's generated folder exactly as drizzle-orm's readMigrationFiles does", () => {
    const ours = readDrizzleFolder(EXAMPLE_DRIZZLE_FOLDER);
    const theirs = readMigrationFiles({ migrationsFolder: EXAMPLE_DRIZZLE_FOLDER });
    expect(ours.map((m) => m.tag)).toEqual(["0000_init", "0001_add_pinned"]);
    expect(ours.map((m) => ({ sql: [...m.statements], folderMillis: m.when, hash: m.hash }))).toEqual(
      theirs.map((m) => ({ sql: m.sql, folderMillis: m.folderMillis, hash: m.hash })),
    );
    expect(ours[0]?.statements.length).toBe(4);
  });

  it("names the problem of a broken folder", () => {
    const root = tempDir(cleanups);
    const expectInvalid = (folder: string, pattern: RegExp) => {
      let error: unknown;
      try {
        readDrizzleFolder(folder);
      } catch (e) {
        error = e;
      }
      expect(isMigrationError(error)).toBe(true);
      expect((error as MigrationError).kind).toBe("invalid-folder");
      expect((error as Error).message).toMatch(pattern);
    };
    expectInvalid(join(root, "nowhere"), /cannot read meta\/_journal\.json/);

    mkdirSync(join(root, "bad-json", "meta"), { recursive: true });
    writeFileSync(join(root, "bad-json", "meta", "_journal.json"), "{ not json");
    expectInvalid(join(root, "bad-json"), /not valid JSON/);

    mkdirSync(join(root, "pg", "meta"), { recursive: true });
    writeFileSync(join(root, "pg", "meta", "_journal.json"), JSON.stringify({ dialect: "postgresql", entries: [] }));
    expectInvalid(join(root, "pg"), /dialect "postgresql", not sqlite/);

    mkdirSync(join(root, "no-file", "meta"), { recursive: true });
    writeFileSync(
      join(root, "no-file", "meta", "_journal.json"),
      JSON.stringify({ dialect: "sqlite", entries: [{ tag: "0000_x", when: 1 }] }),
    );
    expectInvalid(join(root, "no-file"), /journal entry "0000_x" has no file 0000_x\.sql/);

    mkdirSync(join(root, "no-when", "meta"), { recursive: true });
    writeFileSync(
      join(root, "no-when", "meta", "_journal.json"),
      JSON.stringify({ dialect: "sqlite", entries: [{ tag: "0000_x" }] }),
    );
    expectInvalid(join(root, "no-when"), /journal entry 0 \("0000_x"\) has no valid "when"/);
  });
});

describe("applyDrizzleMigrations", () => {
  it("writes the rows drizzle-orm's migrator writes and builds the same schema", () => {
    const dir = tempDir(cleanups);
    const ours = join(dir, "ours.db");
    const theirs = join(dir, "theirs.db");
    const migrations = readDrizzleFolder(EXAMPLE_DRIZZLE_FOLDER);

    expect(applyDrizzleMigrations(guarded(ours), migrations)).toEqual(["0000_init", "0001_add_pinned"]);
    const client = new Database(theirs);
    migrate(drizzle({ client }), { migrationsFolder: EXAMPLE_DRIZZLE_FOLDER });
    client.close();

    expect(rows(ours)).toEqual(rows(theirs));
    expect(rows(ours)).toEqual(migrations.map((m) => ({ id: null, hash: m.hash, created_at: m.when })));
    expect(schemaOf(ours)).toEqual(schemaOf(theirs));
  });

  it("agrees with drizzle-orm in both directions: nothing is applied twice", () => {
    const dir = tempDir(cleanups);
    const migrations = readDrizzleFolder(EXAMPLE_DRIZZLE_FOLDER);

    // drizzle-orm first, then us.
    const first = join(dir, "drizzle-first.db");
    const client = new Database(first);
    migrate(drizzle({ client }), { migrationsFolder: EXAMPLE_DRIZZLE_FOLDER });
    client.close();
    expect(applyDrizzleMigrations(guarded(first), migrations)).toEqual([]);
    expect(rows(first)).toHaveLength(2);

    // Us first, then drizzle-orm.
    const second = join(dir, "ours-first.db");
    const db = guarded(second);
    applyDrizzleMigrations(db, migrations);
    db.close();
    const client2 = new Database(second);
    migrate(drizzle({ client: client2 }), { migrationsFolder: EXAMPLE_DRIZZLE_FOLDER });
    client2.close();
    expect(rows(second)).toHaveLength(2);
  });

  it("applies only what is newer than the newest row, and says what a database lacks", () => {
    const file = join(tempDir(cleanups), "db");
    const db = guarded(file);
    const all = readDrizzleFolder(EXAMPLE_DRIZZLE_FOLDER);
    expect(missingDrizzleMigrations(db, all)).toEqual(["0000_init", "0001_add_pinned"]);

    expect(applyDrizzleMigrations(db, readDrizzleFolder(firstMigrations(1)))).toEqual(["0000_init"]);
    expect(missingDrizzleMigrations(db, all)).toEqual(["0001_add_pinned"]);
    expect(applyDrizzleMigrations(db, all)).toEqual(["0001_add_pinned"]);
    expect(missingDrizzleMigrations(db, all)).toEqual([]);
    expect(applyDrizzleMigrations(db, all)).toEqual([]);
    expect(db.prepare("SELECT name FROM pragma_table_info('notes') WHERE name = 'pinned'").get()).toEqual({
      name: "pinned",
    });
  });

  it("supports a custom bookkeeping table name (drizzle-kit's migrations.table)", () => {
    const file = join(tempDir(cleanups), "db");
    const db = guarded(file);
    const all = readDrizzleFolder(EXAMPLE_DRIZZLE_FOLDER);
    expect(applyDrizzleMigrations(db, all, 'my "migrations"')).toHaveLength(2);
    expect(db.prepare('SELECT count(*) AS n FROM "my ""migrations"""').get()).toEqual({ n: 2 });
    expect(db.prepare("SELECT 1 FROM sqlite_master WHERE name = '__drizzle_migrations'").get()).toBeUndefined();
  });

  it("rolls back the whole run, bookkeeping table included, when a statement fails", () => {
    const folder = copyFolder(cleanups, EXAMPLE_DRIZZLE_FOLDER);
    writeFileSync(
      join(folder, "0001_add_pinned.sql"),
      "ALTER TABLE `notes` ADD `pinned` integer;--> statement-breakpoint\nALTER TABLE `nope` ADD `x` integer;",
    );
    const file = join(tempDir(cleanups), "db");
    const db = guarded(file);
    let error: unknown;
    try {
      applyDrizzleMigrations(db, readDrizzleFolder(folder));
    } catch (e) {
      error = e;
    }
    expect(isMigrationError(error)).toBe(true);
    expect((error as MigrationError).kind).toBe("failed");
    expect((error as MigrationError).migration).toBe("0001_add_pinned");
    expect((error as Error).message).toMatch(/statement 2 of 2 .*no such table: nope/);
    expect(db.inTransaction).toBe(false);
    expect(
      db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'").all(),
    ).toEqual([]);
  });

  it("keeps the write gate's refusal as it is: a replica's applier never writes", () => {
    const file = join(tempDir(cleanups), "db");
    // Create the database (WAL) on a "primary", then look at it as a replica.
    guarded(file).close();
    const before = readFileSync(file);
    const gate = new SwitchGate("replica");
    const db = guarded(file, gate);
    let error: unknown;
    try {
      applyDrizzleMigrations(db, readDrizzleFolder(EXAMPLE_DRIZZLE_FOLDER));
    } catch (e) {
      error = e;
    }
    expect(isNotPrimaryError(error)).toBe(true);
    expect(isMigrationError(error)).toBe(false);
    expect(db.inTransaction).toBe(false);
    db.close();
    expect(readFileSync(file).equals(before)).toBe(true);
  });

  it("a demotion in the middle of a run leaves nothing behind", () => {
    const file = join(tempDir(cleanups), "db");
    const gate = new SwitchGate("primary");
    const db = guarded(file, gate);
    const migrations = readDrizzleFolder(EXAMPLE_DRIZZLE_FOLDER);
    // Let BEGIN IMMEDIATE, the bookkeeping DDL and the first statement through, then demote.
    let checks = 0;
    const original = gate.assertWritable.bind(gate);
    gate.assertWritable = () => {
      if (++checks === 4) gate.state = "replica";
      original();
    };
    expect(() => applyDrizzleMigrations(db, migrations)).toThrow(/replica/);
    gate.assertWritable = original;
    gate.state = "primary";
    expect(
      db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'").all(),
    ).toEqual([]);
  });
});
