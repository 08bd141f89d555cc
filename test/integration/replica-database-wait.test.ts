// A replica of a new cluster has no database file until the primary's first write replicates.
// Opening there waits (bounded by databaseWaitTimeout) instead of failing at once: Drizzle's
// synchronous drizzle() sleeps the thread, Prisma's connect() waits without blocking the loop.
// A second process plays LiteFS delivering the file.
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { pino } from "pino";
import { sql } from "drizzle-orm";
import { loadSettings, type LiteFSSettings } from "../../src/config/index.js";
import { drizzle } from "../../src/driver/drizzle/index.js";
import { PrismaLiteFS } from "../../src/driver/prisma/index.js";
import { LiteFSError } from "../../src/errors.js";
import { createTempMount, type TempMount } from "../support/litefs-mount.js";

const ROOT = resolve(import.meta.dirname, "..", "..");
const silent = pino({ level: "silent" });

let mount: TempMount | undefined;
const children = new Set<ChildProcess>();
afterEach(() => {
  for (const child of children) child.kill("SIGKILL");
  children.clear();
  mount?.cleanup();
  mount = undefined;
});

/**
 * Another process delivers the WAL database with one row after `delayMs`, whole at once (built
 * beside it, then renamed in), as LiteFS applies the primary's first transaction on a replica.
 */
function deliverDatabaseLater(file: string, delayMs: number): Promise<void> {
  const script = `
    const Database = require("better-sqlite3");
    const { renameSync } = require("node:fs");
    const [file] = process.argv.slice(1);
    setTimeout(() => {
      const db = new Database(file + ".building");
      db.pragma("journal_mode = WAL");
      db.exec("CREATE TABLE t (v TEXT); INSERT INTO t VALUES ('from the primary')");
      db.close();
      renameSync(file + ".building", file);
    }, ${delayMs});`;
  const child = spawn(process.execPath, ["-e", script, file], { cwd: ROOT, stdio: ["ignore", "ignore", "inherit"] });
  children.add(child);
  return new Promise((done, fail) =>
    child.on("exit", (code) => (code === 0 ? done() : fail(new Error(`delivering process exited ${code}`)))),
  );
}

function replicaSettings(databaseWaitTimeout?: string): LiteFSSettings {
  mount = createTempMount({ role: "replica", primary: "node-a" });
  // No LiteFS API here (port 1): the gate reads the mount files, which say "replica of node-a".
  return loadSettings(
    {
      nodeId: "node-b",
      primaryHostname: "node-a",
      mountPath: mount.path,
      dataPath: "/var/lib/litefs",
      httpAddr: "127.0.0.1:1",
      databaseName: "db",
      ...(databaseWaitTimeout ? { databaseWaitTimeout } : {}),
    },
    {},
  );
}

const nodeOptions = { logger: silent, pollIntervalMs: 0, backoff: { initialMs: 10_000, maxMs: 10_000 } };

describe("opening the database on a replica before it has replicated", () => {
  it("drizzle() waits for the file, then reads what arrived", async () => {
    const settings = replicaSettings();
    const file = join(settings.mountPath, "db");
    const delivered = deliverDatabaseLater(file, 600);
    const started = performance.now();
    const db = drizzle({ settings, nodeOptions });
    const waited = performance.now() - started;
    try {
      expect(waited).toBeGreaterThan(400);
      expect(waited).toBeLessThan(25_000);
      expect(db.all(sql`SELECT v FROM t`)).toEqual([{ v: "from the primary" }]);
    } finally {
      await db.$close();
      await delivered;
    }
  });

  it("gives up after databaseWaitTimeout with an error naming the setting and the primary", async () => {
    const settings = replicaSettings("300ms");
    const started = performance.now();
    let error: unknown;
    try {
      drizzle({ settings, nodeOptions });
    } catch (e) {
      error = e;
    }
    expect(performance.now() - started).toBeGreaterThanOrEqual(290);
    expect(error).toBeInstanceOf(LiteFSError);
    expect(error).toMatchObject({ code: "LITEFS_TIMEOUT" });
    expect((error as Error).message).toMatch(
      /did not arrive on this replica within 300 ms \(databaseWaitTimeout 300ms, LITEFS_DATABASE_WAIT_TIMEOUT\)/,
    );
    expect((error as Error).message).toMatch(/no write from the primary "node-a"/);
    expect(existsSync(join(settings.mountPath, "db"))).toBe(false);
  });

  it("databaseWaitTimeout 0 fails at once, as before", () => {
    const settings = replicaSettings("0");
    const started = performance.now();
    expect(() => drizzle({ settings, nodeOptions })).toThrow(/only the primary may create it/);
    expect(performance.now() - started).toBeLessThan(250);
  });

  it("Prisma's connect() waits without blocking the event loop", async () => {
    const settings = replicaSettings();
    const file = join(settings.mountPath, "db");
    const delivered = deliverDatabaseLater(file, 600);
    let ticks = 0;
    const ticker = setInterval(() => ticks++, 20);
    try {
      const adapter = await new PrismaLiteFS({ settings }).connect();
      expect(ticks).toBeGreaterThan(10); // the loop ran all along
      const rows = await adapter.queryRaw({ sql: "SELECT v FROM t", args: [], argTypes: [] });
      expect(rows.rows).toEqual([["from the primary"]]);
      await adapter.dispose();
    } finally {
      clearInterval(ticker);
      await delivered;
    }
  });
});
