// `npm run demo`: a small notes app writing and reading through litefs-node.
//
// Part 1 runs on the embedded default, dev mode (LITEFS_ENABLED=false unless you set it): a plain
// local SQLite file, this node always writable, no LiteFS needed. Part 2 shows what the guard does
// on a LiteFS replica, using a directory laid out exactly like a replica's LiteFS mount.
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { desc, eq } from "drizzle-orm";
import { loadSettings } from "../../src/config/index.js";
import { drizzle, isNotPrimaryError, type LiteFSDrizzleDatabase } from "../../src/driver/drizzle/index.js";
import { migrateDrizzle } from "../../migrations-guard/index.js";
import * as schema from "../schema.js";

const here = dirname(fileURLToPath(import.meta.url));
const migrationsFolder = join(here, "..", "drizzle");
const say = (line: string) => process.stdout.write(`${line}\n`);

type Db = LiteFSDrizzleDatabase<typeof schema>;

function writeSomeNotes(db: Db): void {
  // One write transaction (BEGIN IMMEDIATE on a writable node): the author and their notes land together.
  db.transaction((tx) => {
    const author =
      tx.select().from(schema.authors).where(eq(schema.authors.email, "ada@example.com")).get() ??
      tx.insert(schema.authors).values({ name: "Ada", email: "ada@example.com" }).returning().get();
    tx.insert(schema.notes)
      .values([
        { authorId: author.id, title: "LiteFS", body: "replicates SQLite by shipping LTX files" },
        { authorId: author.id, title: "litefs-node", body: "refuses writes on replicas, typed", pinned: true },
      ])
      .run();
  });
}

function printNotes(db: Db): void {
  const rows = db
    .select({
      id: schema.notes.id,
      title: schema.notes.title,
      pinned: schema.notes.pinned,
      author: schema.authors.name,
    })
    .from(schema.notes)
    .innerJoin(schema.authors, eq(schema.notes.authorId, schema.authors.id))
    .orderBy(desc(schema.notes.id))
    .limit(4)
    .all();
  for (const r of rows) say(`    #${r.id} ${r.pinned ? "[pinned] " : ""}${r.title} (by ${r.author})`);
}

/** A directory laid out like a LiteFS replica's mount: `.primary` names the primary, `.lag` its lag. */
function replicaMountWith(databaseFile: string, databaseName: string): string {
  const mount = mkdtempSync(join(tmpdir(), "litefs-demo-replica-"));
  copyFileSync(databaseFile, join(mount, databaseName)); // what LiteFS replication would have shipped
  writeFileSync(join(mount, ".primary"), "node-a\n", { mode: 0o444 });
  writeFileSync(join(mount, ".lag"), "+000000012\n");
  return mount;
}

async function main(): Promise<void> {
  // Keep the demo's output readable: the library logs JSON through pino (info level by default).
  process.env.LITEFS_LOG_LEVEL ??= "error";
  // Dev mode unless the environment configures LiteFS explicitly.
  const settings = loadSettings(process.env.LITEFS_ENABLED === undefined ? { enabled: false } : {});
  say(
    settings.enabled
      ? `LiteFS mode: ${settings.mountPath}/${settings.databaseName}`
      : `dev mode: ${settings.devDatabasePath}`,
  );

  const migrated = await migrateDrizzle({ settings, migrationsFolder });
  say(`migrations: ${migrated.applied.length} applied (${migrated.role})`);

  const db = drizzle({ settings, schema });
  try {
    say(`node role: ${db.$node.role}; journal mode: ${String(db.$client.pragma("journal_mode", { simple: true }))}`);
    writeSomeNotes(db);
    say("latest notes:");
    printNotes(db);
  } finally {
    await db.$close();
  }
  if (settings.enabled) return;

  // Part 2: the same database on a replica of a static cluster whose primary is node-a.
  say("\non a LiteFS replica (a mount directory written like LiteFS's):");
  const mount = replicaMountWith(settings.devDatabasePath, settings.databaseName);
  // No LiteFS API listens on 20299: the node reads the mount files, as it does whenever the
  // /events stream is down.
  const replicaSettings = loadSettings(
    {
      enabled: true,
      nodeId: "node-b",
      primaryHostname: "node-a",
      mountPath: mount,
      dataPath: `${mount}-data`,
      httpAddr: "127.0.0.1:20299",
    },
    {},
  );
  const replica = drizzle({
    settings: replicaSettings,
    schema,
    nodeOptions: { readyTimeoutMs: 1000, pollIntervalMs: 0 },
  });
  try {
    await replica.$node.ready;
    say(`  role: ${replica.$node.role}, primary: ${replica.$node.primary}`);
    say(`  reads work: ${replica.select().from(schema.notes).all().length} notes`);
    try {
      replica.insert(schema.notes).values({ authorId: 1, title: "from a replica" }).run();
      say("  the write went through (unexpected)");
    } catch (error) {
      if (!isNotPrimaryError(error)) throw error;
      const cause = (error as { cause?: unknown }).cause ?? error;
      say(`  the write was refused: ${cause instanceof Error ? `${cause.name}: ${cause.message}` : String(cause)}`);
    }
  } finally {
    await replica.$close();
    rmSync(mount, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`demo failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exitCode = 1;
});
