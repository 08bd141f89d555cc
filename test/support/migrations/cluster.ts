// Two-node "clusters" for the migration tests: temp mount directories laid out like LiteFS's
// (test/support/litefs-mount.ts), settings for each node, and "replication" done by copying the
// primary's checkpointed database file into the replica's mount (in-process, or by the
// replicator child process in ./replicator.ts).
import { spawn, type ChildProcess } from "node:child_process";
import { chmodSync, copyFileSync, cpSync, mkdtempSync, renameSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import Database from "better-sqlite3";
import { loadSettings, type LiteFSSettings } from "../../../src/config/index.js";
import { createTempMount, type MountState, type TempMount } from "../litefs-mount.js";

export const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..");
export const EXAMPLE_DRIZZLE_FOLDER = join(REPO_ROOT, "examples", "drizzle");
export const PRISMA_FIXTURES = join(REPO_ROOT, "test", "fixtures", "prisma-migrations");
const REPLICATOR = join(dirname(fileURLToPath(import.meta.url)), "replicator.ts");

/** A TCP port nothing listens on: a node's /events connection fails and its gate reads the mount files. */
export async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Cleanups registered by the helpers; run them in afterEach (reverse order). */
export class Cleanups {
  private readonly list: (() => void | Promise<void>)[] = [];
  add(fn: () => void | Promise<void>): void {
    this.list.push(fn);
  }
  async run(): Promise<void> {
    for (const fn of this.list.splice(0).reverse()) await fn();
  }
}

export function tempDir(cleanups: Cleanups, prefix = "litefs-node-migrations-"): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  cleanups.add(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A copy of a fixture folder (tests that edit migration files work on copies). */
export function copyFolder(cleanups: Cleanups, source: string): string {
  const target = join(tempDir(cleanups), "migrations");
  cpSync(source, target, { recursive: true });
  return target;
}

export interface TestNode {
  readonly mount: TempMount;
  readonly nodeId: string;
  readonly settings: LiteFSSettings;
  /** The database file in the mount. */
  readonly file: string;
  /** LITEFS_* variables for a CLI process playing this node. */
  readonly env: Record<string, string>;
}

/**
 * A node with its own mount directory. The static election names "node-a" as primary, so
 * node-a with a primary mount is the primary, node-b with a replica mount a replica, and node-b
 * with a primary mount is split brain.
 */
export async function testNode(cleanups: Cleanups, nodeId: string, state: MountState): Promise<TestNode> {
  const mount = createTempMount(state);
  cleanups.add(() => mount.cleanup());
  const httpAddr = `127.0.0.1:${await closedPort()}`;
  const dataPath = join(dirname(mount.path), "data");
  const settings = loadSettings(
    {
      enabled: true,
      mountPath: mount.path,
      dataPath,
      databaseName: mount.databaseName,
      nodeId,
      primaryHostname: "node-a",
      httpAddr,
    },
    {},
  );
  return {
    mount,
    nodeId,
    settings,
    file: join(mount.path, mount.databaseName),
    env: {
      LITEFS_ENABLED: "true",
      LITEFS_MOUNT_PATH: mount.path,
      LITEFS_DATA_PATH: dataPath,
      LITEFS_DATABASE: mount.databaseName,
      LITEFS_NODE_ID: nodeId,
      LITEFS_PRIMARY_HOSTNAME: "node-a",
      LITEFS_HTTP_ADDR: httpAddr,
    },
  };
}

/**
 * "Replication" of a whole database: checkpoint the primary's WAL into its file, copy the file
 * next to the replica's and rename it into place (readers never see half a file), read-only
 * like a LiteFS replica's database.
 */
export function replicateDatabase(fromFile: string, toFile: string): void {
  const source = new Database(fromFile, { fileMustExist: true });
  try {
    source.pragma("wal_checkpoint(TRUNCATE)");
    const temp = `${toFile}.replicating`;
    copyFileSync(fromFile, temp);
    chmodSync(temp, 0o444);
    renameSync(temp, toFile);
  } finally {
    source.close();
  }
}

/** Starts the replicator process: copies `fromFile` to `toFile` after `delayMs`. Killed by cleanups. */
export function startReplicator(
  cleanups: Cleanups,
  fromFile: string,
  toFile: string,
  delayMs: number,
): { child: ChildProcess; done: Promise<number | null> } {
  const child = spawn(process.execPath, ["--import", "tsx", REPLICATOR, fromFile, toFile, String(delayMs)], {
    cwd: REPO_ROOT,
    stdio: ["ignore", "ignore", "inherit"],
  });
  const done = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  cleanups.add(async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    await done;
  });
  return { child, done };
}
