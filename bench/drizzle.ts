// litefs-node/drizzle against stock drizzle-orm/better-sqlite3: same schema, same seeded rows,
// same pragmas, each variant on its own file in its own process (bench/worker.ts). The subject
// runs twice: with the gate fed by the /events stream (a real node connected to a replay server of
// the recorded LiteFS capture: no I/O per check), and with the file-fallback gate (a real node
// whose LiteFS API is unreachable: it reads the mount files, each read delayed by what it costs
// through LiteFS's FUSE mount, bench/fuse-latency.ts).

import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import BetterSqlite3 from "better-sqlite3";
import { pino } from "pino";
import { and, eq, gte, lt } from "drizzle-orm";
import { drizzle as stockDrizzle, type BetterSQLite3Database } from "drizzle-orm/better-sqlite3";
import { integer, sqliteTable, text } from "drizzle-orm/sqlite-core";
import { loadSettings, type LiteFSSettings } from "../src/config/index.js";
import { drizzle } from "../src/driver/drizzle/index.js";
import { createNode, type LiteFSNode } from "../src/node/node.js";
import { startEventsServer, type EventsServer } from "../test/support/events-server.js";
import { fuseLatencyFileOps } from "./fuse-latency.js";
import { createTempMount, type TempMount } from "../test/support/litefs-mount.js";

const items = sqliteTable("items", {
  id: integer("id").primaryKey({ autoIncrement: true }),
  name: text("name").notNull(),
  qty: integer("qty").notNull(),
});

type AnyDrizzle = BetterSQLite3Database;

const SEED_ROWS = 10_000;

/** The four operations, for one Drizzle database. */
function cases(db: AnyDrizzle): Record<string, () => unknown> {
  let n = 0;
  const nextKey = (): number => {
    n = (n * 7919 + 17) % (SEED_ROWS - 60);
    return n + 1;
  };
  return {
    "autocommit single-row insert": () => db.insert(items).values({ name: "row", qty: 1 }).run(),
    "100-row insert transaction": () =>
      db.transaction((tx) => {
        for (let i = 0; i < 100; i++) tx.insert(items).values({ name: "tx-row", qty: i }).run();
      }),
    "primary-key select": () => db.select().from(items).where(eq(items.id, nextKey())).get(),
    "50-row range select": () => {
      const from = nextKey();
      return db
        .select()
        .from(items)
        .where(and(gte(items.id, from), lt(items.id, from + 50)))
        .all();
    },
  };
}

async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

function settingsFor(mount: TempMount, root: string, httpAddr: string): LiteFSSettings {
  return loadSettings(
    {
      enabled: true,
      mountPath: mount.path,
      dataPath: join(root, "data"),
      databaseName: mount.databaseName,
      nodeId: "node-a",
      primaryHostname: "node-a",
      httpAddr,
    },
    {},
  );
}

async function waitFor(condition: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const started = Date.now();
  while (!condition()) {
    if (Date.now() - started > timeoutMs) throw new Error(`bench: timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

export const DRIZZLE_VARIANTS = ["stock", "events", "files"] as const;
export type DrizzleVariant = (typeof DRIZZLE_VARIANTS)[number];

/** One variant's database: its cases (name -> operation) and how to close it. */
export interface BenchSubject<Op> {
  readonly cases: Record<string, Op>;
  close(): Promise<void>;
}

/**
 * Opens ONE variant on its own freshly seeded file in its own temp mount (bench/worker.ts runs
 * each variant in its own process: no shared heap, JIT feedback or page cache between them).
 * - stock: drizzle-orm/better-sqlite3 on plain better-sqlite3;
 * - events: litefs-node/drizzle, gate fed by a real node following a replay of recorded /events;
 * - files: litefs-node/drizzle, file-fallback gate (LiteFS API unreachable: reads the mount files,
 *   with FUSE latency injected).
 * Same settings on all: WAL, foreign keys on, 5 s busy timeout, synchronous=NORMAL (the usual WAL
 * setting; FULL would make every commit an fsync and hide the driver's cost). Checked, not assumed.
 */
export async function openDrizzleVariant(variant: DrizzleVariant): Promise<BenchSubject<() => unknown>> {
  const { root, mount, defer, close } = benchScratch("litefs-node-bench-");
  try {
    const file = join(mount.path, mount.databaseName);
    let client: BetterSqlite3.Database;
    let db: AnyDrizzle;
    if (variant === "stock") {
      const stockClient = new BetterSqlite3(file, { timeout: 5000 });
      defer(() => stockClient.close());
      stockClient.pragma("journal_mode = WAL");
      stockClient.pragma("foreign_keys = ON");
      client = stockClient;
      db = stockDrizzle(stockClient);
    } else {
      const { node, close: closeNode } = await openBenchNode(variant, mount, root);
      defer(closeNode);
      const guarded = drizzle({ node });
      defer(() => guarded.$client.close());
      client = guarded.$client;
      db = guarded;
    }
    client.pragma("synchronous = NORMAL");
    checkConnection(client);
    client.exec(
      "CREATE TABLE IF NOT EXISTS items (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL, qty INTEGER NOT NULL)",
    );
    const seed = client.prepare("INSERT INTO items (name, qty) VALUES (?, ?)");
    client.transaction(() => {
      for (let i = 0; i < SEED_ROWS; i++) seed.run(`seed-${i}`, i);
    })();
    return { cases: cases(db), close };
  } catch (error) {
    await close();
    throw error;
  }
}

/** One variant's scratch space: a temp dir and a mount in the primary state; cleanups run last-in first-out. */
export interface BenchScratch {
  readonly root: string;
  readonly mount: TempMount;
  defer(cleanup: () => unknown): void;
  close(): Promise<void>;
}

export function benchScratch(prefix: string): BenchScratch {
  const root = mkdtempSync(join(tmpdir(), prefix));
  const mount = createTempMount({ role: "primary" });
  const cleanups: (() => unknown)[] = [() => mount.cleanup(), () => rmSync(root, { recursive: true, force: true })];
  return {
    root,
    mount,
    defer: (cleanup) => void cleanups.unshift(cleanup),
    close: async () => {
      for (const cleanup of cleanups) await cleanup();
    },
  };
}

/**
 * A real node for the litefs-node variants of both suites, on `mount`:
 * - events: connected to a replay of the recorded primary /events stream (no I/O per check);
 * - files: its LiteFS API is unreachable, so its gate reads the mount files, each stat and read
 *   delayed as through LiteFS's FUSE mount (80 µs, 300 µs). BENCH_FILE_GATE_CACHE_MS sets the
 *   node's fileGateCacheMs (default: the library's; 0 = read the files on every check).
 */
export async function openBenchNode(
  variant: "events" | "files",
  mount: TempMount,
  root: string,
): Promise<{ node: LiteFSNode; close(): Promise<void> }> {
  if (variant === "events") {
    const server: EventsServer = await startEventsServer({ fixture: "primary" });
    let node: LiteFSNode | null = null;
    const close = async (): Promise<void> => {
      if (node !== null) await node.close();
      await server.close();
    };
    try {
      node = await createNode(settingsFor(mount, root, `127.0.0.1:${server.port}`), { pollIntervalMs: 0 });
      const opened = node;
      await waitFor(() => opened.snapshot().source === "events", "the node to follow /events");
      return { node: opened, close };
    } catch (error) {
      await close();
      throw error;
    }
  }
  // The LiteFS API is unreachable: the gate reads the mount files, at FUSE cost.
  const cacheMs = process.env["BENCH_FILE_GATE_CACHE_MS"];
  const node = await createNode(settingsFor(mount, root, `127.0.0.1:${await closedPort()}`), {
    pollIntervalMs: 0,
    readyTimeoutMs: 200,
    logger: pino({ level: "silent" }), // its reconnect attempts are expected here
    mountFileOps: fuseLatencyFileOps(),
    ...(cacheMs === undefined || cacheMs === "" ? {} : { fileGateCacheMs: Number(cacheMs) }),
  });
  if (node.snapshot().source !== "files") {
    await node.close();
    throw new Error("bench: the file-fallback node is not reading the files");
  }
  return { node, close: () => node.close() };
}

/** The settings both sides must share, read back from the connection. */
function checkConnection(client: BetterSqlite3.Database): void {
  const actual = {
    journal_mode: String(client.pragma("journal_mode", { simple: true })),
    synchronous: Number(client.pragma("synchronous", { simple: true })),
    foreign_keys: Number(client.pragma("foreign_keys", { simple: true })),
    busy_timeout: Number(client.pragma("busy_timeout", { simple: true })),
  };
  const expected = { journal_mode: "wal", synchronous: 1, foreign_keys: 1, busy_timeout: 5000 };
  if (JSON.stringify(actual) !== JSON.stringify(expected)) {
    throw new Error(`bench: connection settings ${JSON.stringify(actual)}, expected ${JSON.stringify(expected)}`);
  }
}
