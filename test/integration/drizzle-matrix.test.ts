// The Drizzle entry over the real node gate: temp mount directories written like LiteFS's, the
// /events stream replayed from recorded captures, real SQLite files. Four states (primary,
// replica, replica with no primary known, split brain), each with the gate fed by the mount files
// and by /events; then role flips between prepare and execution, inside transactions and
// during a migration.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DrizzleQueryError, eq, gt, sql } from "drizzle-orm";
import { migrate } from "drizzle-orm/better-sqlite3/migrator";
import { integer, sqliteTable, text } from "drizzle-orm/sqlite-core";
import { afterEach, describe, expect, it } from "vitest";
import { loadSettings, type LiteFSSettings } from "../../src/config/index.js";
import {
  drizzle,
  isNotPrimaryError,
  isSplitBrainError,
  GuardedDatabase,
  NotPrimaryError,
  type LiteFSDrizzleDatabase,
} from "../../src/driver/drizzle/index.js";
import { openNode, type LiteFSNode, type Role } from "../../src/node/node.js";
import { startEventsServer, type EventsServer } from "../support/events-server.js";
import { createTempMount, type MountState, type TempMount } from "../support/litefs-mount.js";
import { fileFingerprint } from "../support/switch-gate.js";

const items = sqliteTable("items", {
  id: integer("id").primaryKey({ autoIncrement: true }),
  name: text("name").notNull(),
  qty: integer("qty").notNull().default(0),
});
const schema = { items };
type Db = LiteFSDrizzleDatabase<typeof schema>;

const MIGRATION_1 = `CREATE TABLE \`items\` (
  \`id\` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
  \`name\` text NOT NULL,
  \`qty\` integer DEFAULT 0 NOT NULL
);
--> statement-breakpoint
INSERT INTO \`items\` (\`name\`, \`qty\`) VALUES ('seed-1', 1), ('seed-2', 2), ('seed-3', 3);`;
const MIGRATION_2 = `CREATE INDEX \`items_qty\` ON \`items\` (\`qty\`);
--> statement-breakpoint
ALTER TABLE \`items\` ADD \`note\` text;`;

type StateName = "primary" | "replica" | "replica-no-primary" | "split-brain";
type Source = "files" | "events";

interface StateSpec {
  readonly nodeId: string;
  readonly mount: MountState;
  /** What /events replays to this node. */
  readonly stream: string;
  readonly writable: boolean;
  readonly refusal?: (e: unknown) => boolean;
  readonly role: Role;
}

const INIT_PRIMARY = `{"type":"init","data":{"isPrimary":true}}\n`;
const INIT_REPLICA = `{"type":"init","data":{"isPrimary":false,"hostname":"node-a"}}\n`;
const PRIMARY_LOST = `{"type":"primaryChange","data":{"isPrimary":false}}\n`;

const STATES: Record<StateName, StateSpec> = {
  primary: { nodeId: "node-a", mount: { role: "primary" }, stream: INIT_PRIMARY, writable: true, role: "primary" },
  replica: {
    nodeId: "node-b",
    mount: { role: "replica", primary: "node-a" },
    stream: INIT_REPLICA,
    writable: false,
    refusal: isNotPrimaryError,
    role: "replica",
  },
  "replica-no-primary": {
    nodeId: "node-b",
    mount: { role: "replica-lost-primary" },
    stream: INIT_REPLICA + PRIMARY_LOST,
    writable: false,
    refusal: isNotPrimaryError,
    role: "replica",
  },
  // This node's LiteFS says primary; the static election names node-a.
  "split-brain": {
    nodeId: "node-b",
    mount: { role: "primary" },
    stream: INIT_PRIMARY,
    writable: false,
    refusal: isSplitBrainError,
    role: "primary",
  },
};

// --- per-test resources, all released in afterEach

const cleanups: (() => void | Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A TCP port nothing listens on: the node's /events connection fails, the gate reads the files. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

function tempRoot(): string {
  const root = mkdtempSync(join(tmpdir(), "litefs-node-drizzle-"));
  cleanups.push(() => rmSync(root, { recursive: true, force: true }));
  return root;
}

function migrationsFolder(root: string, count: 1 | 2): string {
  const folder = join(root, `migrations-${count}`);
  mkdirSync(join(folder, "meta"), { recursive: true });
  const entries = [{ idx: 0, version: "6", when: 1_700_000_000_000, tag: "0000_init", breakpoints: true }];
  writeFileSync(join(folder, "0000_init.sql"), MIGRATION_1);
  if (count === 2) {
    entries.push({ idx: 1, version: "6", when: 1_700_000_100_000, tag: "0001_index", breakpoints: true });
    writeFileSync(join(folder, "0001_index.sql"), MIGRATION_2);
  }
  writeFileSync(join(folder, "meta", "_journal.json"), JSON.stringify({ version: "7", dialect: "sqlite", entries }));
  return folder;
}

function settingsFor(mount: TempMount, root: string, nodeId: string, httpAddr: string): LiteFSSettings {
  return loadSettings(
    {
      enabled: true,
      mountPath: mount.path,
      dataPath: join(root, "data"),
      databaseName: mount.databaseName,
      nodeId,
      primaryHostname: "node-a",
      httpAddr,
    },
    {},
  );
}

async function waitFor(condition: () => boolean, what: string, timeoutMs = 3000): Promise<void> {
  const started = Date.now();
  while (!condition()) {
    if (Date.now() - started > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

interface Cluster {
  readonly mount: TempMount;
  readonly root: string;
  readonly file: string;
  readonly server: EventsServer | null;
  /** Opens this node's view and a Drizzle database on it (closed in afterEach). */
  open(nodeId: string, options?: { logger?: { logQuery(query: string, params: unknown[]): void } }): Promise<Db>;
}

/**
 * A mount whose database was created and migrated (migration 1) by a primary, then put in
 * `state`. With source "events", the node also gets an /events stream saying the same.
 */
async function cluster(source: Source, state: StateSpec): Promise<Cluster> {
  const root = tempRoot();
  const mount = createTempMount({ role: "primary" });
  cleanups.push(() => mount.cleanup());
  const file = join(mount.path, mount.databaseName);

  const setupPort = await closedPort();
  const creator = drizzle({
    settings: settingsFor(mount, root, "node-a", `127.0.0.1:${setupPort}`),
    schema,
    nodeOptions: { pollIntervalMs: 0 },
  });
  migrate(creator, { migrationsFolder: migrationsFolder(root, 1) });
  await creator.$close();

  mount.setState(state.mount);
  let server: EventsServer | null = null;
  let httpAddr = `127.0.0.1:${await closedPort()}`;
  if (source === "events") {
    server = await startEventsServer({ stream: state.stream });
    const s = server;
    cleanups.push(() => s.close());
    httpAddr = `127.0.0.1:${server.port}`;
  }
  return {
    mount,
    root,
    file,
    server,
    async open(nodeId, options = {}) {
      // fileGateCacheMs 0: the matrix flips the mount between two statements and wants the gate's
      // answer at once. With the default cache the file gate answers "writable" from its last
      // read for up to 50 ms, and here no LiteFS stands behind the mount to refuse the write
      // itself (the cache's bound and safety argument have their own tests: node-gate-files).
      const node: LiteFSNode = openNode(settingsFor(mount, root, nodeId, httpAddr), {
        pollIntervalMs: 0,
        readyTimeoutMs: 3000,
        fileGateCacheMs: 0,
      });
      cleanups.push(() => node.close());
      await node.ready;
      if (source === "events") await waitFor(() => node.snapshot().source === "events", "the node to follow /events");
      const db = drizzle({ node, schema, ...(options.logger ? { logger: options.logger } : {}) });
      cleanups.push(() => db.$close());
      return db;
    },
  };
}

function capture(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error("expected the call to throw");
}

const SEEDED = [
  { id: 1, name: "seed-1", qty: 1 },
  { id: 2, name: "seed-2", qty: 2 },
  { id: 3, name: "seed-3", qty: 3 },
];

// --- the matrix

describe.each(["files", "events"] as const)("gate fed by %s", (source) => {
  describe.each(Object.keys(STATES) as StateName[])("%s", (name) => {
    const state = STATES[name];

    /** Runs `write` and checks: done on a writable node; refused with the right error, nothing written, elsewhere. */
    function expectWrite(c: Cluster, db: Db, write: () => unknown): unknown {
      const before = fileFingerprint(c.file);
      if (state.writable) return write();
      const error = capture(write);
      expect(state.refusal?.(error), String(error)).toBe(true);
      if (state.refusal === isNotPrimaryError) expect(isSplitBrainError(error)).toBe(false);
      expect(fileFingerprint(c.file)).toBe(before);
      expect(db.$client.inTransaction).toBe(false);
      return undefined;
    }

    it("reports the state through $node", async () => {
      const c = await cluster(source, state);
      const db = await c.open(state.nodeId);
      expect(db.$client).toBeInstanceOf(GuardedDatabase);
      expect(db.$node.role).toBe(state.role);
      expect(db.$node.splitBrain).toBe(name === "split-brain");
      expect(db.$client.isWritable()).toBe(state.writable);
    });

    it("runs selects, relational queries and raw reads", async () => {
      const c = await cluster(source, state);
      const db = await c.open(state.nodeId);
      expect(db.select().from(items).all()).toEqual(SEEDED);
      expect(db.select({ name: items.name }).from(items).where(gt(items.qty, 1)).all()).toEqual([
        { name: "seed-2" },
        { name: "seed-3" },
      ]);
      expect(db.select().from(items).where(eq(items.id, 2)).get()).toEqual(SEEDED[1]);
      expect(db.query.items.findMany({ where: (t, { lt }) => lt(t.qty, 3) }).sync()).toHaveLength(2);
      expect(db.all(sql`SELECT count(*) AS n FROM items`)).toEqual([{ n: 3 }]);
      expect(db.get(sql`SELECT max(qty) AS m FROM items`)).toEqual({ m: 3 });
      expect(db.$client.prepare("SELECT name FROM items ORDER BY id").pluck().all()).toEqual([
        "seed-1",
        "seed-2",
        "seed-3",
      ]);
    });

    it("guards insert, update, delete and returning", async () => {
      const c = await cluster(source, state);
      const db = await c.open(state.nodeId);
      expectWrite(c, db, () => db.insert(items).values({ name: "new", qty: 9 }).run());
      expectWrite(c, db, () => db.update(items).set({ qty: 10 }).where(eq(items.id, 1)).run());
      expectWrite(c, db, () => db.delete(items).where(eq(items.id, 2)).run());
      const returned = expectWrite(c, db, () =>
        db.insert(items).values({ name: "ret" }).returning({ id: items.id }).get(),
      );
      const updated = expectWrite(c, db, () =>
        db.update(items).set({ qty: 0 }).where(eq(items.id, 3)).returning().all(),
      );
      const deleted = expectWrite(c, db, () =>
        db.delete(items).where(eq(items.id, 3)).returning({ name: items.name }).all(),
      );
      if (state.writable) {
        expect(returned).toEqual({ id: 5 });
        expect(updated).toEqual([{ id: 3, name: "seed-3", qty: 0 }]);
        expect(deleted).toEqual([{ name: "seed-3" }]);
        expect(db.select({ id: items.id, qty: items.qty }).from(items).all()).toEqual([
          { id: 1, qty: 10 },
          { id: 4, qty: 9 },
          { id: 5, qty: 0 },
        ]);
      } else {
        expect(db.select().from(items).all()).toEqual(SEEDED);
      }
    });

    it("guards db.run(sql`...`) and passes db.run of a read", async () => {
      const c = await cluster(source, state);
      const db = await c.open(state.nodeId);
      expectWrite(c, db, () => db.run(sql`INSERT INTO items (name) VALUES (${"raw"})`));
      expectWrite(c, db, () => db.run(sql`DELETE FROM items`));
      expect(db.run(sql`SELECT 1`)).toEqual({ changes: 0, lastInsertRowid: expect.anything() as unknown });
    });

    it("guards a writing transaction (sync callback): committed, or refused with nothing written", async () => {
      const c = await cluster(source, state);
      const db = await c.open(state.nodeId);
      const result = expectWrite(c, db, () =>
        db.transaction((tx) => {
          const n = tx.select().from(items).all().length;
          tx.insert(items).values({ name: "in-tx", qty: n }).run();
          tx.update(items).set({ qty: 100 }).where(eq(items.name, "seed-1")).run();
          return n;
        }),
      );
      if (state.writable) {
        expect(result).toBe(3);
        expect(db.select({ name: items.name, qty: items.qty }).from(items).where(gt(items.qty, 2)).all()).toEqual([
          { name: "seed-1", qty: 100 },
          { name: "seed-3", qty: 3 },
          { name: "in-tx", qty: 3 },
        ]);
      }
      for (const behavior of ["deferred", "immediate", "exclusive"] as const) {
        expectWrite(c, db, () =>
          db.transaction((tx) => tx.delete(items).where(eq(items.name, "in-tx")).run(), { behavior }),
        );
      }
    });

    it("runs a read-only transaction on every state", async () => {
      const c = await cluster(source, state);
      const db = await c.open(state.nodeId);
      const names = db.transaction((tx) =>
        tx
          .select({ name: items.name })
          .from(items)
          .all()
          .map((r) => r.name),
      );
      expect(names).toEqual(["seed-1", "seed-2", "seed-3"]);
      expect(db.$client.inTransaction).toBe(false);
    });

    it("handles nested transactions (savepoints)", async () => {
      const c = await cluster(source, state);
      const db = await c.open(state.nodeId);
      const read = db.transaction((tx) => tx.transaction((inner) => inner.select().from(items).all().length));
      expect(read).toBe(3);
      expectWrite(c, db, () =>
        db.transaction((tx) => {
          tx.insert(items).values({ name: "outer" }).run();
          tx.transaction((inner) => inner.insert(items).values({ name: "inner-kept" }).run());
          expect(() =>
            tx.transaction((inner) => {
              inner.insert(items).values({ name: "inner-rolled-back" }).run();
              inner.rollback();
            }),
          ).toThrow(/Rollback/);
        }),
      );
      if (state.writable) {
        expect(db.select({ name: items.name }).from(items).where(gt(items.id, 3)).all()).toEqual([
          { name: "outer" },
          { name: "inner-kept" },
        ]);
      }
      // A nested write inside a read transaction is refused at the write, on a node that may not write.
      if (!state.writable) {
        const error = capture(() =>
          db.transaction((tx) => tx.transaction((inner) => inner.insert(items).values({ name: "x" }).run())),
        );
        expect(state.refusal?.(error)).toBe(true);
      }
    });

    it("runs drizzle's migrator on the primary only", async () => {
      const c = await cluster(source, state);
      const db = await c.open(state.nodeId);
      expectWrite(c, db, () => migrate(db, { migrationsFolder: migrationsFolder(c.root, 2) }));
      const indexes = db.all<{ name: string }>(
        sql`SELECT name FROM sqlite_master WHERE type = 'index' AND name = 'items_qty'`,
      );
      expect(indexes).toHaveLength(state.writable ? 1 : 0);
    });

    it("guards raw $client use: prepare, exec, pragma, transaction", async () => {
      const c = await cluster(source, state);
      const db = await c.open(state.nodeId);
      const client = db.$client;
      const insert = client.prepare("INSERT INTO items (name) VALUES (?)");
      expectWrite(c, db, () => insert.run("client"));
      expectWrite(c, db, () => client.exec("UPDATE items SET qty = qty + 1"));
      expectWrite(c, db, () => client.pragma("user_version = 7"));
      expectWrite(c, db, () => client.transaction(() => insert.run("client-tx")).immediate());
      expect(client.pragma("journal_mode", { simple: true })).toBe("wal");
    });
  });
});

// --- role flips between prepare and execution

interface Flipper {
  demote(): Promise<void>;
  promote(): Promise<void>;
}

async function flippingPrimary(
  source: Source,
  logger?: { logQuery(query: string, params: unknown[]): void },
): Promise<{ c: Cluster; db: Db; flip: Flipper }> {
  const c = await cluster(source, STATES.primary);
  const db = await c.open("node-a", logger ? { logger } : {});
  const flip: Flipper =
    source === "files"
      ? {
          demote: async () => c.mount.setReplica({ primary: "node-a" }),
          promote: async () => c.mount.setPrimary(),
        }
      : {
          demote: async () => {
            c.mount.setReplica({ primary: "node-a" });
            await c.server?.sendEvent({ type: "primaryChange", data: { isPrimary: false, hostname: "node-a" } });
            await waitFor(() => !db.$client.isWritable(), "the demotion to reach the gate");
          },
          promote: async () => {
            c.mount.setPrimary();
            await c.server?.sendEvent({ type: "primaryChange", data: { isPrimary: true } });
            await waitFor(() => db.$client.isWritable(), "the promotion to reach the gate");
          },
        };
  return { c, db, flip };
}

describe.each(["files", "events"] as const)("role flips, gate fed by %s", (source) => {
  it("checks a prepared query at execution: runs, refused after demotion, runs after promotion", async () => {
    const { db, flip } = await flippingPrimary(source);
    const insert = db
      .insert(items)
      .values({ name: sql.placeholder("name") })
      .prepare();
    const byId = db
      .select()
      .from(items)
      .where(eq(items.id, sql.placeholder("id")))
      .prepare();
    insert.run({ name: "before" });
    await flip.demote();
    const error = capture(() => insert.run({ name: "during" }));
    expect(isNotPrimaryError(error)).toBe(true);
    expect(byId.get({ id: 4 })).toEqual({ id: 4, name: "before", qty: 0 });
    await flip.promote();
    insert.run({ name: "after" });
    expect(db.select({ name: items.name }).from(items).where(gt(items.id, 3)).all()).toEqual([
      { name: "before" },
      { name: "after" },
    ]);
  });

  it("checks a query built before a demotion when it runs", async () => {
    const { db, flip } = await flippingPrimary(source);
    const update = db.update(items).set({ qty: 42 });
    await flip.demote();
    expect(isNotPrimaryError(capture(() => update.run()))).toBe(true);
    expect(db.select({ qty: items.qty }).from(items).all()).toEqual([{ qty: 1 }, { qty: 2 }, { qty: 3 }]);
  });

  it("does not commit a transaction whose node was demoted while it ran", async () => {
    const { c, db, flip } = await flippingPrimary(source);
    const before = fileFingerprint(c.file);
    // The callback is synchronous; the demotion is already visible to the gate when it runs
    // (files), or is applied before the transaction starts writing (events).
    if (source === "files") {
      const error = capture(() =>
        db.transaction((tx) => {
          tx.insert(items).values({ name: "lost" }).run();
          c.mount.setReplica({ primary: "node-a" });
          tx.insert(items).values({ name: "lost-too" }).run();
        }),
      );
      expect(isNotPrimaryError(error)).toBe(true);
    } else {
      await flip.demote();
      const error = capture(() => db.transaction((tx) => tx.insert(items).values({ name: "lost" }).run()));
      expect(isNotPrimaryError(error)).toBe(true);
    }
    expect(db.$client.inTransaction).toBe(false);
    expect(db.select().from(items).all()).toEqual(SEEDED);
    expect(fileFingerprint(c.file)).toBe(before);
  });
});

it("a migration interrupted by a demotion leaves nothing behind (files)", async () => {
  let armed = false;
  let demote: (() => void) | null = null;
  const logger = {
    logQuery(query: string) {
      // Demote right before the migration's second statement runs.
      if (armed && query.trimStart().startsWith("ALTER TABLE")) demote?.();
    },
  };
  const { c, db } = await flippingPrimary("files", logger);
  demote = () => c.mount.setReplica({ primary: "node-a" });
  const before = fileFingerprint(c.file);
  armed = true;
  const error = capture(() => migrate(db, { migrationsFolder: migrationsFolder(c.root, 2) }));
  expect(isNotPrimaryError(error)).toBe(true);
  expect(db.$client.inTransaction).toBe(false);
  expect(db.all(sql`SELECT name FROM sqlite_master WHERE name = 'items_qty'`)).toEqual([]);
  expect(fileFingerprint(c.file)).toBe(before);
});

it("isNotPrimaryError recognises what Drizzle throws", async () => {
  const c = await cluster("files", STATES.replica);
  const db = await c.open("node-b");
  // drizzle-orm 0.45.4's better-sqlite3 session does not wrap driver errors, sync or awaited:
  // the NotPrimaryError itself arrives.
  const syncError = capture(() => db.insert(items).values({ name: "x" }).run());
  expect(syncError).toBeInstanceOf(NotPrimaryError);
  expect(isNotPrimaryError(syncError)).toBe(true);
  const awaitedError = await db
    .insert(items)
    .values({ name: "x" })
    .then(
      () => null,
      (e: unknown) => e,
    );
  expect(awaitedError).toBeInstanceOf(NotPrimaryError);
  // Drizzle's other paths (its query cache, the async drivers) wrap errors in DrizzleQueryError
  // with the original as `cause`: recognised through the cause chain.
  const wrapped = new DrizzleQueryError('insert into "items" ("name") values (?)', ["x"], syncError as Error);
  expect(isNotPrimaryError(wrapped)).toBe(true);
  expect(isSplitBrainError(wrapped)).toBe(false);
});
