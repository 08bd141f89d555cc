// litefs-node/drizzle against stock drizzle-orm/better-sqlite3, same database file, same pragmas.
// The subject runs twice: with the gate fed by the /events stream (a real node connected to a
// replay server of the recorded LiteFS capture: no I/O per check), and with the file-fallback gate
// (a real node whose LiteFS API is unreachable: it reads the mount files on every check).

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
import { createNode, type LiteFSNode } from "../src/election/node.js";
import { startEventsServer, type EventsServer } from "../test/support/events-server.js";
import { createTempMount, type TempMount } from "../test/support/litefs-mount.js";
import { measureInterleavedSamples, median, pairedRatio, type BenchOptions, type BenchRow } from "./harness.js";

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
      return db.select().from(items).where(and(gte(items.id, from), lt(items.id, from + 50))).all();
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
    { enabled: true, mountPath: mount.path, dataPath: join(root, "data"), databaseName: mount.databaseName, nodeId: "node-a", primaryHostname: "node-a", httpAddr },
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

export async function runDrizzleBench(options: BenchOptions, log: (line: string) => void = console.log): Promise<BenchRow[]> {
  const root = mkdtempSync(join(tmpdir(), "litefs-node-bench-"));
  const mount = createTempMount({ role: "primary" });
  const closers: (() => unknown)[] = [() => mount.cleanup(), () => rmSync(root, { recursive: true, force: true })];
  try {
    const file = join(mount.path, mount.databaseName);

    // Stock: plain better-sqlite3 with what GuardedDatabase sets up (WAL, foreign keys, 5 s busy
    // timeout), plus synchronous=NORMAL on both (the usual WAL setting; FULL would make every
    // commit an fsync and hide the driver's cost).
    const stockClient = new BetterSqlite3(file, { timeout: 5000 });
    closers.unshift(() => stockClient.close());
    stockClient.pragma("journal_mode = WAL");
    stockClient.pragma("foreign_keys = ON");
    stockClient.pragma("synchronous = NORMAL");
    stockClient.exec("CREATE TABLE IF NOT EXISTS items (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL, qty INTEGER NOT NULL)");
    const seed = stockClient.prepare("INSERT INTO items (name, qty) VALUES (?, ?)");
    stockClient.transaction(() => {
      for (let i = 0; i < SEED_ROWS; i++) seed.run(`seed-${i}`, i);
    })();
    const stockDb = stockDrizzle(stockClient);

    // Gate fed by /events: a real node connected to a replay of the recorded primary stream.
    const server: EventsServer = await startEventsServer({ fixture: "primary" });
    closers.unshift(() => server.close());
    const eventsNode: LiteFSNode = await createNode(settingsFor(mount, root, `127.0.0.1:${server.port}`), { pollIntervalMs: 0 });
    closers.unshift(() => eventsNode.close());
    await waitFor(() => eventsNode.snapshot().source === "events", "the node to follow /events");
    const withEvents = drizzle({ node: eventsNode });
    closers.unshift(() => withEvents.$client.close());
    withEvents.$client.pragma("synchronous = NORMAL");

    // File-fallback gate: the LiteFS API is unreachable, every check reads the mount files.
    const filesNode: LiteFSNode = await createNode(settingsFor(mount, root, `127.0.0.1:${await closedPort()}`), {
      pollIntervalMs: 0,
      readyTimeoutMs: 200,
      logger: pino({ level: "silent" }), // its reconnect attempts are expected here
    });
    closers.unshift(() => filesNode.close());
    if (filesNode.snapshot().source !== "files") throw new Error("bench: the file-fallback node is not reading the files");
    const withFiles = drizzle({ node: filesNode });
    closers.unshift(() => withFiles.$client.close());
    withFiles.$client.pragma("synchronous = NORMAL");

    const stockCases = cases(stockDb);
    const eventsCases = cases(withEvents);
    const filesCases = cases(withFiles);
    const rows: BenchRow[] = [];
    for (const name of Object.keys(stockCases)) {
      log(`  drizzle: ${name} ...`);
      const samples = measureInterleavedSamples(
        { stock: stockCases[name] as () => unknown, events: eventsCases[name] as () => unknown, files: filesCases[name] as () => unknown },
        options,
      );
      const stock = samples.stock as number[];
      for (const [variant, label] of [
        ["events", "gate fed by /events"],
        ["files", "file-fallback gate"],
      ] as const) {
        const subject = samples[variant] as number[];
        rows.push({
          suite: "drizzle",
          case: name,
          variant: label,
          baselineOpsPerSec: median(stock),
          subjectOpsPerSec: median(subject),
          ratio: pairedRatio(subject, stock),
        });
      }
    }
    return rows;
  } finally {
    for (const close of closers) await close();
  }
}
