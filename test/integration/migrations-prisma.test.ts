// migratePrisma on temp LiteFS mount directories with the real node gate: Prisma migration
// folders applied on the primary (through the guarded driver, in WAL), re-applied as a no-op,
// skipped and waited for on a replica, a failed migration on the primary ending a replica's
// wait at once, split brain refused.
import { existsSync } from "node:fs";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterEach, describe, expect, it } from "vitest";
import { isMigrationError, migratePrisma, type MigrationError } from "../../migrations-guard/index.js";
import { isSplitBrainError } from "../../src/errors.js";
import {
  Cleanups,
  PRISMA_FIXTURES,
  copyFolder,
  replicateDatabase,
  startReplicator,
  testNode,
} from "../support/migrations/cluster.js";

const cleanups = new Cleanups();
afterEach(() => cleanups.run());

const BLOG = join(PRISMA_FIXTURES, "blog");
const FAILING = join(PRISMA_FIXTURES, "failing");
const BLOG_NAMES = ["20240105093000_init", "20240112141500_add_posts", "20240120080000_post_published_at"];

function records(file: string): { migration_name: string; finished_at: number | null; logs: string | null }[] {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    return db
      .prepare("SELECT migration_name, finished_at, logs FROM _prisma_migrations ORDER BY started_at")
      .all() as never;
  } finally {
    db.close();
  }
}

describe("migratePrisma on a LiteFS mount", () => {
  it("applies the folder on the primary, then is a no-op", async () => {
    const primary = await testNode(cleanups, "node-a", { role: "primary" });
    expect(await migratePrisma({ settings: primary.settings, migrationsFolder: BLOG })).toEqual({
      role: "primary",
      applied: BLOG_NAMES,
      waitedMs: null,
    });
    expect(await migratePrisma({ settings: primary.settings, migrationsFolder: BLOG })).toEqual({
      role: "primary",
      applied: [],
      waitedMs: null,
    });
    const db = new Database(primary.file, { readonly: true });
    expect(db.pragma("journal_mode", { simple: true })).toBe("wal");
    db.close();
    expect(records(primary.file).map((r) => r.migration_name)).toEqual(BLOG_NAMES);
  });

  it("skips on a replica, and with wait returns once the file has been replicated", async () => {
    const primary = await testNode(cleanups, "node-a", { role: "primary" });
    const replica = await testNode(cleanups, "node-b", { role: "replica", primary: "node-a" });
    expect(await migratePrisma({ settings: replica.settings, migrationsFolder: BLOG })).toEqual({
      role: "replica",
      applied: [],
      waitedMs: null,
    });
    expect(existsSync(replica.file)).toBe(false);

    await migratePrisma({ settings: primary.settings, migrationsFolder: BLOG });
    const replicator = startReplicator(cleanups, primary.file, replica.file, 300);
    const result = await migratePrisma({
      settings: replica.settings,
      migrationsFolder: BLOG,
      wait: { timeoutMs: 15_000, pollIntervalMs: 50 },
    });
    expect(await replicator.done).toBe(0);
    expect(result).toMatchObject({ role: "replica", applied: [] });
    expect(result.waitedMs).toBeGreaterThanOrEqual(200);
  });

  it("a failed migration on the primary is recorded, blocks the next run, and ends a replica's wait at once", async () => {
    const primary = await testNode(cleanups, "node-a", { role: "primary" });
    const replica = await testNode(cleanups, "node-b", { role: "replica", primary: "node-a" });
    const folder = copyFolder(cleanups, FAILING);

    const failed = await migratePrisma({ settings: primary.settings, migrationsFolder: folder }).catch(
      (e: unknown) => e,
    );
    expect(isMigrationError(failed)).toBe(true);
    expect((failed as MigrationError).kind).toBe("failed");
    const rows = records(primary.file);
    expect(rows.map((r) => [r.migration_name, r.finished_at === null])).toEqual([
      ["20240105093000_init", false],
      ["20240112141500_broken", true],
    ]);
    expect(rows[1]?.logs).toMatch(/no such table: Comment/);

    const blocked = await migratePrisma({ settings: primary.settings, migrationsFolder: folder }).catch(
      (e: unknown) => e,
    );
    expect((blocked as MigrationError).kind).toBe("blocked-by-failed");

    replicateDatabase(primary.file, replica.file);
    const started = Date.now();
    const waited = await migratePrisma({
      settings: replica.settings,
      migrationsFolder: folder,
      wait: { timeoutMs: 20_000, pollIntervalMs: 50 },
    }).catch((e: unknown) => e);
    expect((waited as MigrationError).kind).toBe("failed-on-primary");
    expect((waited as MigrationError).migration).toBe("20240112141500_broken");
    expect(Date.now() - started).toBeLessThan(3000);
  });

  it("refuses in split brain", async () => {
    const split = await testNode(cleanups, "node-b", { role: "primary" });
    const error = await migratePrisma({ settings: split.settings, migrationsFolder: BLOG }).catch((e: unknown) => e);
    expect(isSplitBrainError(error)).toBe(true);
    expect(existsSync(split.file)).toBe(false);
  });

  it("an invalid folder fails the same way on every node, before any role decision", async () => {
    const replica = await testNode(cleanups, "node-b", { role: "replica", primary: "node-a" });
    const error = await migratePrisma({
      settings: replica.settings,
      migrationsFolder: join(PRISMA_FIXTURES, "no-such-folder"),
    }).catch((e: unknown) => e);
    expect((error as MigrationError).kind).toBe("invalid-folder");
  });
});
