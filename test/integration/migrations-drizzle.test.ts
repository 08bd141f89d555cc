// migrateDrizzle on temp LiteFS mount directories with the real node gate (mount files) and
// the example app's real drizzle-kit migrations: applied on the primary, skipped on a replica,
// waited for on a replica while a second process "replicates" the database file, refused in
// split brain and without a primary; and drizzle-kit itself agreeing with what we applied.
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterEach, describe, expect, it } from "vitest";
import {
  isMigrationTimeoutError,
  migrateDrizzle,
  readDrizzleFolder,
  type MigrationTimeoutError,
} from "../../migrations-guard/index.js";
import { isNotPrimaryError, isSplitBrainError } from "../../src/errors.js";
import {
  Cleanups,
  EXAMPLE_DRIZZLE_FOLDER,
  REPO_ROOT,
  copyFolder,
  replicateDatabase,
  startReplicator,
  testNode,
} from "../support/migrations/cluster.js";
import { cliEnv } from "../support/cli.js";

const cleanups = new Cleanups();
afterEach(() => cleanups.run());

const TAGS = ["0000_init", "0001_add_pinned"];

function bookkeeping(file: string): { hash: string; created_at: number }[] {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    return db.prepare("SELECT hash, created_at FROM __drizzle_migrations ORDER BY created_at").all() as never;
  } finally {
    db.close();
  }
}

function journalMode(file: string): string {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    return String(db.pragma("journal_mode", { simple: true }));
  } finally {
    db.close();
  }
}

/** The example folder with only its first migration in the journal. */
function firstMigrationOnly(): string {
  const folder = copyFolder(cleanups, EXAMPLE_DRIZZLE_FOLDER);
  const file = join(folder, "meta", "_journal.json");
  const journal = JSON.parse(readFileSync(file, "utf8")) as { entries: unknown[] };
  journal.entries = journal.entries.slice(0, 1);
  writeFileSync(file, JSON.stringify(journal));
  return folder;
}

async function primaryAndReplica() {
  const primary = await testNode(cleanups, "node-a", { role: "primary" });
  const replica = await testNode(cleanups, "node-b", { role: "replica", primary: "node-a" });
  return { primary, replica };
}

describe("migrateDrizzle on a LiteFS mount", () => {
  it("applies drizzle-kit's migrations on the primary, in WAL, with drizzle's bookkeeping rows", async () => {
    const { primary } = await primaryAndReplica();
    const result = await migrateDrizzle({ settings: primary.settings, migrationsFolder: EXAMPLE_DRIZZLE_FOLDER });
    expect(result).toEqual({ role: "primary", applied: TAGS, waitedMs: null });
    expect(journalMode(primary.file)).toBe("wal");
    expect(bookkeeping(primary.file)).toEqual(
      readDrizzleFolder(EXAMPLE_DRIZZLE_FOLDER).map((m) => ({ hash: m.hash, created_at: m.when })),
    );

    expect(await migrateDrizzle({ settings: primary.settings, migrationsFolder: EXAMPLE_DRIZZLE_FOLDER })).toEqual({
      role: "primary",
      applied: [],
      waitedMs: null,
    });
  });

  it("skips on a replica without touching its mount", async () => {
    const { replica } = await primaryAndReplica();
    const before = readdirSync(replica.mount.path).sort();
    const result = await migrateDrizzle({ settings: replica.settings, migrationsFolder: EXAMPLE_DRIZZLE_FOLDER });
    expect(result).toEqual({ role: "replica", applied: [], waitedMs: null });
    expect(readdirSync(replica.mount.path).sort()).toEqual(before);
    expect(existsSync(replica.file)).toBe(false);
  });

  it("on a replica with wait: returns once another process has replicated the primary's migrations", async () => {
    const { primary, replica } = await primaryAndReplica();
    await migrateDrizzle({ settings: primary.settings, migrationsFolder: EXAMPLE_DRIZZLE_FOLDER });
    const replicator = startReplicator(cleanups, primary.file, replica.file, 400);

    const result = await migrateDrizzle({
      settings: replica.settings,
      migrationsFolder: EXAMPLE_DRIZZLE_FOLDER,
      wait: { timeoutMs: 15_000, pollIntervalMs: 50 },
    });
    expect(await replicator.done).toBe(0);
    expect(result.role).toBe("replica");
    expect(result.applied).toEqual([]);
    expect(result.waitedMs).toBeGreaterThanOrEqual(300);
    // The replica's database is the replicated one, byte for byte: the wait never wrote to it.
    expect(readFileSync(replica.file).equals(readFileSync(primary.file))).toBe(true);
    expect(bookkeeping(replica.file)).toHaveLength(2);
  });

  it("on a replica with wait: times out naming the migration that has not arrived", async () => {
    const { primary, replica } = await primaryAndReplica();
    // The primary has only run the first migration; that is what replicated.
    await migrateDrizzle({ settings: primary.settings, migrationsFolder: firstMigrationOnly() });
    replicateDatabase(primary.file, replica.file);

    const started = Date.now();
    const error = await migrateDrizzle({
      settings: replica.settings,
      migrationsFolder: EXAMPLE_DRIZZLE_FOLDER,
      wait: { timeoutMs: 400, pollIntervalMs: 50 },
    }).catch((e: unknown) => e);
    expect(isMigrationTimeoutError(error)).toBe(true);
    expect((error as MigrationTimeoutError).missing).toEqual(["0001_add_pinned"]);
    expect((error as Error).message).toMatch(/for migration "0001_add_pinned" to replicate/);
    expect(Date.now() - started).toBeLessThan(3000);
  });

  it("without a primary: NotPrimaryError at once, or with wait, waits for replication", async () => {
    const primary = await testNode(cleanups, "node-a", { role: "primary" });
    const lost = await testNode(cleanups, "node-b", { role: "replica-lost-primary" });
    const error = await migrateDrizzle({ settings: lost.settings, migrationsFolder: EXAMPLE_DRIZZLE_FOLDER }).catch(
      (e: unknown) => e,
    );
    expect(isNotPrimaryError(error)).toBe(true);
    expect((error as Error).message).toMatch(/lost its primary/);
    expect(existsSync(lost.file)).toBe(false);

    await migrateDrizzle({ settings: primary.settings, migrationsFolder: EXAMPLE_DRIZZLE_FOLDER });
    startReplicator(cleanups, primary.file, lost.file, 200);
    const result = await migrateDrizzle({
      settings: lost.settings,
      migrationsFolder: EXAMPLE_DRIZZLE_FOLDER,
      wait: { timeoutMs: 15_000, pollIntervalMs: 50 },
    });
    expect(result.role).toBe("replica");
    expect(result.waitedMs).not.toBeNull();
  });

  it("refuses in split brain and writes nothing", async () => {
    // node-b's LiteFS says primary; the static election says node-a.
    const split = await testNode(cleanups, "node-b", { role: "primary" });
    const error = await migrateDrizzle({ settings: split.settings, migrationsFolder: EXAMPLE_DRIZZLE_FOLDER }).catch(
      (e: unknown) => e,
    );
    expect(isSplitBrainError(error)).toBe(true);
    expect(existsSync(split.file)).toBe(false);
    const waited = await migrateDrizzle({
      settings: split.settings,
      migrationsFolder: EXAMPLE_DRIZZLE_FOLDER,
      wait: { timeoutMs: 5000 },
    }).catch((e: unknown) => e);
    expect(isSplitBrainError(waited)).toBe(true);
  });

  it("an aborted signal stops the run before it writes anything", async () => {
    const { primary } = await primaryAndReplica();
    const controller = new AbortController();
    controller.abort(new Error("shutting down"));
    const error = await migrateDrizzle({
      settings: primary.settings,
      migrationsFolder: EXAMPLE_DRIZZLE_FOLDER,
      signal: controller.signal,
    }).catch((e: unknown) => e);
    expect((error as Error).message).toBe("shutting down");
    expect(existsSync(primary.file)).toBe(false);
  });

  it("a replica promoted while waiting applies the migrations itself", async () => {
    const node = await testNode(cleanups, "node-a", { role: "replica", primary: "node-a" });
    setTimeout(() => node.mount.setPrimary(), 150);
    const result = await migrateDrizzle({
      settings: node.settings,
      migrationsFolder: EXAMPLE_DRIZZLE_FOLDER,
      wait: { timeoutMs: 10_000, pollIntervalMs: 30 },
    });
    expect(result.role).toBe("primary");
    expect(result.applied).toEqual(TAGS);
    expect(result.waitedMs).toBeGreaterThanOrEqual(100);
  });

  describe("drizzle-kit agrees (its own connection, drizzle.config.ts at the repo root)", () => {
    function drizzleKitMigrate(env: Record<string, string>): { status: number | null; output: string } {
      const r = spawnSync(join(REPO_ROOT, "node_modules", ".bin", "drizzle-kit"), ["migrate"], {
        cwd: REPO_ROOT,
        env: cliEnv(env),
        encoding: "utf8",
        timeout: 30_000,
      });
      return { status: r.status, output: `${r.stdout}${r.stderr}` };
    }

    it("drizzle-kit migrate after our applier applies nothing", async () => {
      const { primary } = await primaryAndReplica();
      await migrateDrizzle({ settings: primary.settings, migrationsFolder: EXAMPLE_DRIZZLE_FOLDER });
      const before = bookkeeping(primary.file);
      const kit = drizzleKitMigrate(primary.env);
      expect(kit.status, kit.output).toBe(0);
      expect(bookkeeping(primary.file)).toEqual(before);
    });

    it("our applier after drizzle-kit migrate applies nothing", async () => {
      const { primary } = await primaryAndReplica();
      const kit = drizzleKitMigrate(primary.env);
      expect(kit.status, kit.output).toBe(0);
      expect(bookkeeping(primary.file)).toHaveLength(2);
      const result = await migrateDrizzle({ settings: primary.settings, migrationsFolder: EXAMPLE_DRIZZLE_FOLDER });
      expect(result.applied).toEqual([]);
      expect(bookkeeping(primary.file)).toHaveLength(2);
    });
  });
});
