// A WriteGate whose state a test flips by hand. It throws the real errors a node's gate throws, so
// driver tests exercise exactly what production code sees; it just has no mount or event stream
// behind it (the behaviour matrix uses the real node gate over temp mount dirs for that).
// Also: temp directories and a fingerprint of a database's files, for the driver tests.

import BetterSqlite3 from "better-sqlite3";
import { createHash } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { GuardedDatabase } from "../../src/driver/guarded-database.js";
import { NotPrimaryError, SplitBrainError } from "../../src/errors.js";
import type { WriteGate } from "../../src/node/gate.js";

export type SwitchState = "primary" | "replica" | "no-primary" | "split-brain";

export class SwitchGate implements WriteGate {
  state: SwitchState;
  /** How many times assertWritable() was called (tests check the guard ran, or did not). */
  checks = 0;
  /**
   * When set, the gate switches to this state right after its next check (which answers with the
   * old state): a node demoted between the driver's check and LiteFS seeing the write.
   */
  switchAfterNextCheck: SwitchState | null = null;

  constructor(
    state: SwitchState = "primary",
    readonly nodeId: string = "node-b",
    readonly primaryHost: string = "node-a",
  ) {
    this.state = state;
  }

  assertWritable(): void {
    this.checks++;
    const state = this.state;
    if (this.switchAfterNextCheck !== null) {
      this.state = this.switchAfterNextCheck;
      this.switchAfterNextCheck = null;
    }
    switch (state) {
      case "primary":
        return;
      case "replica":
        throw new NotPrimaryError({ nodeId: this.nodeId, primary: this.primaryHost, reason: "replica" });
      case "no-primary":
        throw new NotPrimaryError({ nodeId: this.nodeId, primary: null, reason: "no-primary" });
      case "split-brain":
        throw new SplitBrainError({
          nodeId: this.nodeId,
          primary: this.primaryHost,
          reason: `LiteFS says this node is primary but the election names "${this.primaryHost}"`,
        });
    }
  }
}

// --- Files of driver tests: temp directories, and a fingerprint of everything SQLite keeps on disk
// for a database (main file and -wal), to prove a refused statement wrote nothing.

export interface TempDir {
  readonly path: string;
  file(name: string): string;
  cleanup(): void;
}

export function createTempDir(prefix = "litefs-node-driver-"): TempDir {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return {
    path,
    file: (name) => join(path, name),
    cleanup: () => rmSync(path, { recursive: true, force: true }),
  };
}

/** sha256 over the database file and its WAL (an absent file counts as empty). */
export function fileFingerprint(databaseFile: string): string {
  const hash = createHash("sha256");
  for (const suffix of ["", "-wal"]) {
    const file = databaseFile + suffix;
    hash.update(`${suffix}:`);
    if (existsSync(file)) hash.update(readFileSync(file));
  }
  return hash.digest("hex");
}

/** The connections a test opens, closed after it (call closeAll in afterEach). */
export class OpenConnections {
  readonly #open: BetterSqlite3.Database[] = [];

  track<T extends BetterSqlite3.Database>(db: T): T {
    this.#open.push(db);
    return db;
  }

  closeAll(): void {
    for (const db of this.#open.splice(0)) if (db.open) db.close();
  }
}

/** A WAL database at `file` with table t(id, x) holding `values`, created on a "primary"; then a guarded connection with `gate`. */
export function seededDatabase(file: string, gate: SwitchGate, values: readonly string[]): GuardedDatabase {
  const creator = new GuardedDatabase(file, { gate: new SwitchGate("primary") });
  const rows = values.map((v) => `('${v.replaceAll("'", "''")}')`).join(", ");
  creator.exec(`CREATE TABLE IF NOT EXISTS t(id INTEGER PRIMARY KEY, x TEXT); INSERT INTO t(x) VALUES ${rows};`);
  creator.close();
  return new GuardedDatabase(file, { gate });
}

/** Reads the file through a second, plain read-only connection: what another process (or LiteFS) would see. */
export function readCommitted<T>(file: string, read: (plain: BetterSqlite3.Database) => T): T {
  const plain = new BetterSqlite3(file, { readonly: true });
  try {
    return read(plain);
  } finally {
    plain.close();
  }
}
