// The Prisma applier on real SQLite files: the exact `_prisma_migrations` shape and rows, the
// fixture folders applied and re-applied, checksum drift, a failed migration that is rolled
// back, recorded with its error and then blocks, and recovery after it is marked rolled back.
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import {
  applyPrismaMigrations,
  CREATE_PRISMA_MIGRATIONS_TABLE,
  isMigrationError,
  prismaChecksum,
  prismaChecksumMatches,
  readPrismaFolder,
  readPrismaRecords,
  type MigrationError,
} from "../../migrations-guard/index.js";
import { GuardedDatabase } from "../../src/driver/guarded-database.js";
import { isNotPrimaryError } from "../../src/errors.js";
import { Cleanups, PRISMA_FIXTURES, copyFolder, tempDir } from "../support/migrations/cluster.js";
import { SwitchGate } from "../support/switch-gate.js";

const cleanups = new Cleanups();
afterEach(() => cleanups.run());

const BLOG = join(PRISMA_FIXTURES, "blog");
const FAILING = join(PRISMA_FIXTURES, "failing");
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

function database(gate = new SwitchGate("primary")): GuardedDatabase {
  const db = new GuardedDatabase(join(tempDir(cleanups), "db"), { gate });
  cleanups.add(() => {
    if (db.open) db.close();
  });
  return db;
}

function capture(fn: () => unknown): MigrationError {
  try {
    fn();
  } catch (error) {
    expect(isMigrationError(error), String(error)).toBe(true);
    return error as MigrationError;
  }
  throw new Error("expected a MigrationError");
}

function tables(db: GuardedDatabase): string[] {
  return (
    db
      .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")
      .all() as { name: string }[]
  ).map((r) => r.name);
}

describe("readPrismaFolder", () => {
  it("lists migration directories in name order with sha256 checksums of their files", () => {
    const migrations = readPrismaFolder(BLOG);
    expect(migrations.map((m) => m.name)).toEqual([
      "20240105093000_init",
      "20240112141500_add_posts",
      "20240120080000_post_published_at",
    ]);
    for (const m of migrations) {
      expect(m.script).toBe(readFileSync(m.file, "utf8"));
      expect(m.checksum).toMatch(/^[0-9a-f]{64}$/);
      expect(m.checksum).toBe(prismaChecksum(m.script));
    }
  });

  it("refuses folders made for another database or missing a migration.sql", () => {
    const pg = copyFolder(cleanups, BLOG);
    writeFileSync(join(pg, "migration_lock.toml"), 'provider = "postgresql"\n');
    expect(capture(() => readPrismaFolder(pg)).message).toMatch(
      /provider "postgresql"; these migrations are not for SQLite/,
    );

    const holey = copyFolder(cleanups, BLOG);
    mkdirSync(join(holey, "20240201000000_empty"));
    const error = capture(() => readPrismaFolder(holey));
    expect(error.kind).toBe("invalid-folder");
    expect(error.message).toMatch(/"20240201000000_empty" has no readable migration\.sql/);

    expect(capture(() => readPrismaFolder(join(tempDir(cleanups), "absent"))).message).toMatch(
      /cannot read the directory/,
    );
  });
});

describe("prismaChecksumMatches", () => {
  it("accepts the script with either line ending, as Prisma does, and nothing else", () => {
    const lf = 'CREATE TABLE "A" (\n  "id" INTEGER\n);\n';
    const crlf = lf.replaceAll("\n", "\r\n");
    expect(prismaChecksumMatches(lf, prismaChecksum(lf))).toBe(true);
    expect(prismaChecksumMatches(crlf, prismaChecksum(lf))).toBe(true);
    expect(prismaChecksumMatches(lf, prismaChecksum(crlf))).toBe(true);
    expect(prismaChecksumMatches(lf, prismaChecksum(`${lf}-- edited\n`))).toBe(false);
    expect(prismaChecksumMatches(lf, "")).toBe(false);
  });

  it("accepts the unpadded hex of rows written by old Prisma versions", () => {
    const script = "SELECT 1;";
    const digest = prismaChecksum(script);
    const unpadded = (digest.match(/../g) ?? []).map((byte) => Number.parseInt(byte, 16).toString(16)).join("");
    expect(unpadded.length).toBeLessThan(64); // this digest has bytes below 0x10
    expect(prismaChecksumMatches(script, unpadded)).toBe(true);
    expect(prismaChecksumMatches(script, digest.toUpperCase())).toBe(true);
  });
});

describe("applyPrismaMigrations", () => {
  it("creates _prisma_migrations exactly as Prisma's SQLite schema engine does and records each migration", () => {
    const db = database();
    let clock = 1_700_000_000_000;
    const applied = applyPrismaMigrations(db, readPrismaFolder(BLOG), { now: () => clock++ });
    expect(applied).toEqual(["20240105093000_init", "20240112141500_add_posts", "20240120080000_post_published_at"]);

    const ddl = db.prepare("SELECT sql FROM sqlite_master WHERE name = '_prisma_migrations'").get() as { sql: string };
    expect(`${ddl.sql};\n`).toBe(CREATE_PRISMA_MIGRATIONS_TABLE);
    expect(
      db.prepare("SELECT name, type, \"notnull\", dflt_value, pk FROM pragma_table_info('_prisma_migrations')").all(),
    ).toEqual([
      { name: "id", type: "TEXT", notnull: 1, dflt_value: null, pk: 1 },
      { name: "checksum", type: "TEXT", notnull: 1, dflt_value: null, pk: 0 },
      { name: "finished_at", type: "DATETIME", notnull: 0, dflt_value: null, pk: 0 },
      { name: "migration_name", type: "TEXT", notnull: 1, dflt_value: null, pk: 0 },
      { name: "logs", type: "TEXT", notnull: 0, dflt_value: null, pk: 0 },
      { name: "rolled_back_at", type: "DATETIME", notnull: 0, dflt_value: null, pk: 0 },
      { name: "started_at", type: "DATETIME", notnull: 1, dflt_value: "current_timestamp", pk: 0 },
      { name: "applied_steps_count", type: "INTEGER UNSIGNED", notnull: 1, dflt_value: "0", pk: 0 },
    ]);

    const rows = db.prepare("SELECT * FROM _prisma_migrations ORDER BY started_at").all() as Record<string, unknown>[];
    const migrations = readPrismaFolder(BLOG);
    expect(rows).toHaveLength(3);
    rows.forEach((row, i) => {
      expect(row["id"]).toMatch(UUID);
      expect(row["migration_name"]).toBe(migrations[i]?.name);
      expect(row["checksum"]).toBe(migrations[i]?.checksum);
      // Prisma stores DateTime values in SQLite as unix milliseconds.
      expect(typeof row["started_at"]).toBe("number");
      expect(row["finished_at"]).toBeGreaterThanOrEqual(row["started_at"] as number);
      expect(row["rolled_back_at"]).toBeNull();
      expect(row["logs"]).toBeNull();
      expect(row["applied_steps_count"]).toBe(1);
    });
    expect(tables(db)).toEqual(["Post", "User", "_prisma_migrations"]);
    expect(db.prepare("SELECT name FROM pragma_table_info('Post') WHERE name = 'publishedAt'").get()).toEqual({
      name: "publishedAt",
    });
  });

  it("is a no-op when applied again, and applies only the new migration when one is added", () => {
    const folder = copyFolder(cleanups, BLOG);
    const db = database();
    applyPrismaMigrations(db, readPrismaFolder(folder));
    const before = db.prepare("SELECT * FROM _prisma_migrations ORDER BY started_at").all();
    expect(applyPrismaMigrations(db, readPrismaFolder(folder))).toEqual([]);
    expect(db.prepare("SELECT * FROM _prisma_migrations ORDER BY started_at").all()).toEqual(before);

    mkdirSync(join(folder, "20240201000000_add_tags"));
    writeFileSync(
      join(folder, "20240201000000_add_tags", "migration.sql"),
      'CREATE TABLE "Tag" ("id" INTEGER NOT NULL PRIMARY KEY);\n',
    );
    expect(applyPrismaMigrations(db, readPrismaFolder(folder))).toEqual(["20240201000000_add_tags"]);
  });

  it("refuses to run anything when an applied migration's file changed (checksum drift)", () => {
    const folder = copyFolder(cleanups, BLOG);
    const db = database();
    applyPrismaMigrations(db, readPrismaFolder(folder).slice(0, 2));
    const file = join(folder, "20240105093000_init", "migration.sql");
    writeFileSync(file, `${readFileSync(file, "utf8")}\n-- an innocent-looking edit\n`);
    const error = capture(() => applyPrismaMigrations(db, readPrismaFolder(folder)));
    expect(error.kind).toBe("checksum-mismatch");
    expect(error.migration).toBe("20240105093000_init");
    expect(error.message).toMatch(/"20240105093000_init" was modified after it was applied/);
    // The third migration was not applied.
    expect(db.prepare("SELECT count(*) AS n FROM _prisma_migrations").get()).toEqual({ n: 2 });

    // Line endings rewritten by git are not drift.
    writeFileSync(
      file,
      readFileSync(join(BLOG, "20240105093000_init", "migration.sql"), "utf8").replaceAll("\n", "\r\n"),
    );
    expect(applyPrismaMigrations(db, readPrismaFolder(folder))).toEqual(["20240120080000_post_published_at"]);
  });

  it("rolls a failed migration back, records it with its error, and then blocks until it is resolved", () => {
    const folder = copyFolder(cleanups, FAILING);
    const db = database();
    const error = capture(() => applyPrismaMigrations(db, readPrismaFolder(folder)));
    expect(error.kind).toBe("failed");
    expect(error.migration).toBe("20240112141500_broken");
    expect(error.message).toMatch(/no such table: Comment/);
    // The migration's first statement (CREATE TABLE "Tag") was rolled back with it.
    expect(tables(db)).toEqual(["User", "_prisma_migrations"]);

    const records = readPrismaRecords(db) ?? [];
    expect(records.map((r) => [r.migrationName, r.state, r.appliedStepsCount])).toEqual([
      ["20240105093000_init", "applied", 1],
      ["20240112141500_broken", "failed", 0],
    ]);
    const failed = records[1];
    expect(failed?.finishedAt).toBeNull();
    expect(failed?.rolledBackAt).toBeNull();
    expect(failed?.logs).toMatch(/Migration name: 20240112141500_broken/);
    expect(failed?.logs).toMatch(/Database error code: SQLITE_ERROR/);
    expect(failed?.logs).toMatch(/no such table: Comment/);

    // Fixing the file is not enough: the recorded failure blocks, as Prisma's P3009 does.
    writeFileSync(
      join(folder, "20240112141500_broken", "migration.sql"),
      'CREATE TABLE "Tag" ("id" INTEGER NOT NULL PRIMARY KEY);\n',
    );
    const blocked = capture(() => applyPrismaMigrations(db, readPrismaFolder(folder)));
    expect(blocked.kind).toBe("blocked-by-failed");
    expect(blocked.migration).toBe("20240112141500_broken");
    expect(blocked.message).toMatch(/prisma migrate resolve --rolled-back 20240112141500_broken/);

    // `prisma migrate resolve --rolled-back` sets rolled_back_at; then the fixed migration runs.
    db.prepare("UPDATE _prisma_migrations SET rolled_back_at = ? WHERE migration_name = ?").run(
      Date.now(),
      "20240112141500_broken",
    );
    expect(applyPrismaMigrations(db, readPrismaFolder(folder))).toEqual(["20240112141500_broken"]);
    expect((readPrismaRecords(db) ?? []).map((r) => [r.migrationName, r.state])).toEqual([
      ["20240105093000_init", "applied"],
      ["20240112141500_broken", "rolled-back"],
      ["20240112141500_broken", "applied"],
    ]);
  });

  it("refuses to start bookkeeping in a database that already has tables (Prisma's P3005)", () => {
    const db = database();
    db.exec('CREATE TABLE "Legacy" ("id" INTEGER)');
    const error = capture(() => applyPrismaMigrations(db, readPrismaFolder(BLOG)));
    expect(error.kind).toBe("not-empty");
    expect(error.message).toMatch(/has tables \(Legacy\)/);
    expect(tables(db)).toEqual(["Legacy"]);
  });

  it("a replica's refusal stays a NotPrimaryError and records nothing", () => {
    const db = database();
    applyPrismaMigrations(db, readPrismaFolder(BLOG).slice(0, 1));
    const gate = new SwitchGate("primary");
    const replica = new GuardedDatabase(db.name, { gate });
    cleanups.add(() => void replica.close());
    gate.state = "replica";
    let error: unknown;
    try {
      applyPrismaMigrations(replica, readPrismaFolder(BLOG));
    } catch (e) {
      error = e;
    }
    expect(isNotPrimaryError(error)).toBe(true);
    expect(db.prepare("SELECT count(*) AS n FROM _prisma_migrations").get()).toEqual({ n: 1 });
  });

  it("a migration applied by another applier meanwhile is not applied twice", () => {
    const db = database();
    const other = new GuardedDatabase(db.name, { gate: new SwitchGate("primary") });
    cleanups.add(() => void other.close());
    const migrations = readPrismaFolder(BLOG);
    applyPrismaMigrations(db, migrations.slice(0, 1));
    // `other` applies everything between our first look and our per-migration transactions.
    let first = true;
    const now = () => {
      if (first) {
        first = false;
        applyPrismaMigrations(other, migrations);
      }
      return Date.now();
    };
    expect(applyPrismaMigrations(db, migrations, { now })).toEqual([]);
    expect(db.prepare("SELECT count(*) AS n FROM _prisma_migrations").get()).toEqual({ n: 3 });
  });
});
