import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // Generates the Prisma test client offline once per run (no-op when it is current).
    globalSetup: ["test/support/global-setup.ts"],
    // Native addon (better-sqlite3) and real child processes: forks isolate them best.
    pool: "forks",
    testTimeout: 30_000,
    hookTimeout: 30_000,
    teardownTimeout: 10_000,
  },
});
