// Telling a drizzle-kit folder from a Prisma one (what `migrate --wait --migrations DIR` waits for).
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { detectMigrationTarget, isMigrationError } from "../../migrations-guard/index.js";
import { Cleanups, EXAMPLE_DRIZZLE_FOLDER, PRISMA_FIXTURES, tempDir } from "../support/migrations/cluster.js";

const cleanups = new Cleanups();
afterEach(() => cleanups.run());

describe("detectMigrationTarget", () => {
  it("recognises drizzle-kit's and Prisma's folders", () => {
    expect(detectMigrationTarget(EXAMPLE_DRIZZLE_FOLDER)).toEqual({ kind: "drizzle", folder: EXAMPLE_DRIZZLE_FOLDER });
    expect(detectMigrationTarget(join(PRISMA_FIXTURES, "blog"))).toEqual({
      kind: "prisma",
      folder: join(PRISMA_FIXTURES, "blog"),
    });
    // A Prisma folder without migration_lock.toml is still recognised by its migration.sql files.
    const bare = tempDir(cleanups);
    mkdirSync(join(bare, "20240101000000_init"));
    writeFileSync(join(bare, "20240101000000_init", "migration.sql"), "SELECT 1;");
    expect(detectMigrationTarget(bare)).toEqual({ kind: "prisma", folder: bare });
  });

  it("says what it expected when a folder is neither", () => {
    for (const folder of [tempDir(cleanups), join(tempDir(cleanups), "missing")]) {
      let error: unknown;
      try {
        detectMigrationTarget(folder);
      } catch (e) {
        error = e;
      }
      expect(isMigrationError(error)).toBe(true);
      expect((error as Error).message).toMatch(
        /neither a drizzle-kit migrations folder \(meta\/_journal\.json\) nor a Prisma one/,
      );
    }
  });
});
