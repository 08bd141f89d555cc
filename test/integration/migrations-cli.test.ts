// `litefs-node migrate` as a real process (node --import tsx bin/litefs-node.ts) on temp LiteFS
// mount directories: the command runs on the primary only, its exit code and signals pass
// through, replicas skip or wait, split brain and "no primary" exit with their codes.
import { spawn } from "node:child_process";
import { existsSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterEach, describe, expect, it } from "vitest";
import { migrateDrizzle, migratePrisma } from "../../migrations-guard/index.js";
import { CLI_ENTRY, cliEnv, runCli } from "../support/cli.js";
import {
  Cleanups,
  EXAMPLE_DRIZZLE_FOLDER,
  PRISMA_FIXTURES,
  REPO_ROOT,
  copyFolder,
  replicateDatabase,
  startReplicator,
  tempDir,
  testNode,
  type TestNode,
} from "../support/migrations/cluster.js";

const cleanups = new Cleanups();
afterEach(() => cleanups.run());

/** `node -e` code that records that it ran (in `marker`) and exits with `code`. */
function markerCommand(marker: string, code: number): string[] {
  return [
    process.execPath,
    "-e",
    `require("node:fs").writeFileSync(${JSON.stringify(marker)}, "ran"); process.exit(${code});`,
  ];
}

async function waitForFile(file: string, timeoutMs = 10_000): Promise<void> {
  const started = Date.now();
  while (!existsSync(file)) {
    if (Date.now() - started > timeoutMs) throw new Error(`timed out waiting for ${file}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** The CLI as a child we can signal. Killed in cleanup; its lifetime is bounded. */
function startCli(
  args: string[],
  env: Record<string, string>,
): { pid: number; stderr: () => string; exit: Promise<{ code: number | null; stderr: string }> } {
  const child = spawn(process.execPath, ["--import", "tsx", CLI_ENTRY, ...args], {
    cwd: REPO_ROOT,
    env: cliEnv(env),
    stdio: ["ignore", "ignore", "pipe"],
  });
  let stderr = "";
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
  const exit = new Promise<{ code: number | null; stderr: string }>((resolve) =>
    child.once("exit", (code) => resolve({ code, stderr })),
  );
  const bound = setTimeout(() => child.kill("SIGKILL"), 25_000);
  cleanups.add(async () => {
    clearTimeout(bound);
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    await exit;
  });
  return { pid: child.pid as number, stderr: () => stderr, exit };
}

describe("litefs-node migrate -- <command>", () => {
  it("runs the command on the primary, after putting the database in WAL, and passes its exit code through", async () => {
    const primary = await testNode(cleanups, "node-a", { role: "primary" });
    const marker = join(tempDir(cleanups), "ran");
    const r = runCli(["migrate", "--", ...markerCommand(marker, 5)], primary.env);
    expect(r.code, r.stderr).toBe(5);
    expect(readFileSync(marker, "utf8")).toBe("ran");
    const db = new Database(primary.file, { readonly: true });
    expect(db.pragma("journal_mode", { simple: true })).toBe("wal");
    db.close();

    const ok = runCli(["migrate", "--", ...markerCommand(marker, 0)], primary.env);
    expect(ok.code).toBe(0);
  });

  it("gives the command DATABASE_URL=file:<mountPath>/<databaseName> unless it is set", async () => {
    const primary = await testNode(cleanups, "node-a", { role: "primary" });
    const seen = join(tempDir(cleanups), "url");
    const printUrl = [
      process.execPath,
      "-e",
      `require("node:fs").writeFileSync(${JSON.stringify(seen)}, String(process.env.DATABASE_URL))`,
    ];
    const derived = runCli(["migrate", "--", ...printUrl], { ...primary.env, DATABASE_URL: "" });
    expect(derived.code, derived.stderr).toBe(0);
    expect(readFileSync(seen, "utf8")).toBe(`file:${primary.file}`);
    const own = runCli(["migrate", "--", ...printUrl], { ...primary.env, DATABASE_URL: "file:/elsewhere.db" });
    expect(own.code, own.stderr).toBe(0);
    expect(readFileSync(seen, "utf8")).toBe("file:/elsewhere.db");
  });

  it("does not run it on a replica: one line, exit 0", async () => {
    const replica = await testNode(cleanups, "node-b", { role: "replica", primary: "node-a" });
    const marker = join(tempDir(cleanups), "ran");
    const r = runCli(["migrate", "--", ...markerCommand(marker, 5)], replica.env);
    expect(r.code, r.stderr).toBe(0);
    expect(existsSync(marker)).toBe(false);
    expect(r.stdout.trim().split("\n")).toHaveLength(1);
    expect(r.stdout).toMatch(/this node is a replica of "node-a": not running/);
    expect(existsSync(replica.file)).toBe(false);
  });

  it("exits 3 in split brain and 4 without a primary, without running it", async () => {
    const split = await testNode(cleanups, "node-b", { role: "primary" });
    const lost = await testNode(cleanups, "node-b", { role: "replica-lost-primary" });
    const marker = join(tempDir(cleanups), "ran");
    const s = runCli(["migrate", "--", ...markerCommand(marker, 0)], split.env);
    expect(s.code).toBe(3);
    expect(s.stderr).toMatch(/split brain/);
    const l = runCli(["migrate", "--", ...markerCommand(marker, 0)], lost.env);
    expect(l.code).toBe(4);
    expect(l.stderr).toMatch(/lost its primary/);
    expect(existsSync(marker)).toBe(false);
  });

  it("runs it in dev mode (no LiteFS: this node is the only one)", () => {
    const dir = tempDir(cleanups);
    const marker = join(dir, "ran");
    const r = runCli(["migrate", "--", ...markerCommand(marker, 0)], {
      LITEFS_ENABLED: "false",
      LITEFS_DEV_DATABASE: join(dir, "dev.db"),
    });
    expect(r.code, r.stderr).toBe(0);
    expect(existsSync(marker)).toBe(true);
  });

  it("reports a command that does not exist with 127", async () => {
    const primary = await testNode(cleanups, "node-a", { role: "primary" });
    const r = runCli(["migrate", "--", "no-such-migration-tool-xyz"], primary.env);
    expect(r.code).toBe(127);
    expect(r.stderr).toMatch(/cannot run "no-such-migration-tool-xyz": command not found/);
  });

  it("forwards SIGTERM to the command and passes on the exit code it chose", async () => {
    const primary = await testNode(cleanups, "node-a", { role: "primary" });
    const dir = tempDir(cleanups);
    const ready = join(dir, "ready");
    const got = join(dir, "got");
    const script =
      `const fs = require("node:fs");` +
      `process.on("SIGTERM", () => { fs.writeFileSync(${JSON.stringify(got)}, "SIGTERM"); process.exit(42); });` +
      `fs.writeFileSync(${JSON.stringify(ready)}, "");` +
      `setTimeout(() => process.exit(9), 20000);`;
    const cli = startCli(["migrate", "--", process.execPath, "-e", script], primary.env);
    await waitForFile(ready);
    process.kill(cli.pid, "SIGTERM");
    const { code } = await cli.exit;
    expect(code).toBe(42);
    expect(readFileSync(got, "utf8")).toBe("SIGTERM");
  });

  it("exits 128+15 when SIGTERM ends a command that does not handle it", async () => {
    const primary = await testNode(cleanups, "node-a", { role: "primary" });
    const ready = join(tempDir(cleanups), "ready");
    const script = `require("node:fs").writeFileSync(${JSON.stringify(ready)}, ""); setTimeout(() => process.exit(9), 20000);`;
    const cli = startCli(["migrate", "--", process.execPath, "-e", script], primary.env);
    await waitForFile(ready);
    process.kill(cli.pid, "SIGTERM");
    expect((await cli.exit).code).toBe(143);
  });
});

describe("litefs-node migrate --wait on a replica", () => {
  it("waits for the primary's drizzle migrations to replicate, then exits 0 without running the command", async () => {
    const primary = await testNode(cleanups, "node-a", { role: "primary" });
    const replica = await testNode(cleanups, "node-b", { role: "replica", primary: "node-a" });
    await migrateDrizzle({ settings: primary.settings, migrationsFolder: EXAMPLE_DRIZZLE_FOLDER });
    startReplicator(cleanups, primary.file, replica.file, 500);
    const marker = join(tempDir(cleanups), "ran");
    const r = runCli(
      ["migrate", "--wait=20", "--migrations", EXAMPLE_DRIZZLE_FOLDER, "--", ...markerCommand(marker, 0)],
      replica.env,
      30_000,
    );
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/replica: migrations replicated from the primary after \d+ ms/);
    expect(existsSync(marker)).toBe(false);
  });

  it("exits 4 at the timeout, naming the migration that did not arrive", async () => {
    const primary = await testNode(cleanups, "node-a", { role: "primary" });
    const replica = await testNode(cleanups, "node-b", { role: "replica", primary: "node-a" });
    const prisma = join(PRISMA_FIXTURES, "blog");
    replicateDatabase(await primaryWithPrismaInit(primary), replica.file);
    const r = runCli(["migrate", "--wait=0.5", "--migrations", prisma, "--", "true"], replica.env);
    expect(r.code).toBe(4);
    expect(r.stderr).toMatch(
      /timed out after 500 ms .* for migration "20240112141500_add_posts", "20240120080000_post_published_at"/,
    );
  });

  it("asks for --migrations when it cannot tell what to wait for", async () => {
    const replica = await testNode(cleanups, "node-b", { role: "replica", primary: "node-a" });
    const r = runCli(["migrate", "--wait", "--", "true"], replica.env);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/pass --migrations DIR/);
  });

  it("SIGTERM ends a wait at once with 128+15", async () => {
    const replica = await testNode(cleanups, "node-b", { role: "replica", primary: "node-a" });
    const cli = startCli(["migrate", "--wait=60", "--drizzle", EXAMPLE_DRIZZLE_FOLDER], {
      ...replica.env,
      LITEFS_LOG_LEVEL: "info",
    });
    // The applier logs that it is waiting (pino JSON on stderr) before we interrupt it.
    const started = Date.now();
    while (!/waiting for drizzle migrations/.test(cli.stderr())) {
      if (Date.now() - started > 10_000) throw new Error(`the CLI never started waiting: ${cli.stderr()}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const signalled = Date.now();
    process.kill(cli.pid, "SIGTERM");
    const { code, stderr } = await cli.exit;
    expect(code).toBe(143);
    expect(stderr).toMatch(/interrupted by SIGTERM before anything ran/);
    expect(Date.now() - signalled).toBeLessThan(3000);
  });
});

describe("litefs-node migrate --drizzle / --prisma", () => {
  it("applies on the primary and skips on a replica", async () => {
    const primary = await testNode(cleanups, "node-a", { role: "primary" });
    const replica = await testNode(cleanups, "node-b", { role: "replica", primary: "node-a" });
    const applied = runCli(["migrate", "--drizzle", EXAMPLE_DRIZZLE_FOLDER], primary.env);
    expect(applied.code, applied.stderr).toBe(0);
    expect(applied.stdout).toMatch(/primary: applied 2 drizzle migration\(s\): 0000_init, 0001_add_pinned/);
    const skipped = runCli(["migrate", "--prisma", join(PRISMA_FIXTURES, "blog")], replica.env);
    expect(skipped.code, skipped.stderr).toBe(0);
    expect(skipped.stdout).toMatch(/replica: prisma migrations skipped/);
  });

  it("exits 1 when a migration fails, with the migration's error", async () => {
    const primary = await testNode(cleanups, "node-a", { role: "primary" });
    const r = runCli(["migrate", "--prisma", join(PRISMA_FIXTURES, "failing")], primary.env);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/Prisma migration "20240112141500_broken" failed .*no such table: Comment/);
  });

  it("exits 2 on usage errors", () => {
    const r = runCli(["migrate", "--drizzle"], {});
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--drizzle needs a value/);
    const help = runCli(["migrate", "--help"], {});
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/Exit codes:/);
  });
});

/** Applies only the first blog migration on `primary`; returns its database file. */
async function primaryWithPrismaInit(primary: TestNode): Promise<string> {
  const folder = copyFolder(cleanups, join(PRISMA_FIXTURES, "blog"));
  rmSync(join(folder, "20240112141500_add_posts"), { recursive: true });
  rmSync(join(folder, "20240120080000_post_published_at"), { recursive: true });
  await migratePrisma({ settings: primary.settings, migrationsFolder: folder });
  return primary.file;
}
