// Reads a drizzle-kit migrations folder the way drizzle-orm's migrator does, so both agree on
// what a migration is: `meta/_journal.json` lists the entries in order; each entry's
// `<tag>.sql` is split on "--> statement-breakpoint"; its hash is the sha256 (hex) of the file's
// text; its `when` (ms) is what the bookkeeping table stores as `created_at`.
import { sha256Hex } from "../src/digest.js";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { MigrationError } from "./errors.js";

export const STATEMENT_BREAKPOINT = "--> statement-breakpoint";

export interface DrizzleMigration {
  /** Journal tag, e.g. "0000_init" (the file is `<tag>.sql`). */
  readonly tag: string;
  /** Journal `when`: creation time in ms; stored as `created_at`. */
  readonly when: number;
  /** sha256 hex of the file's text, as drizzle-orm computes it. */
  readonly hash: string;
  /** The file split on statement breakpoints (chunks may be blank). */
  readonly statements: readonly string[];
  readonly file: string;
}

interface JournalEntry {
  readonly tag: string;
  readonly when: number;
}

/** sha256 hex of a migration file's text: drizzle-orm's `hash`. */
export function drizzleHash(sqlText: string): string {
  return sha256Hex(sqlText);
}

function invalid(folder: string, message: string, cause?: unknown): MigrationError {
  return new MigrationError(
    "invalid-folder",
    null,
    `drizzle migrations folder ${folder}: ${message}`,
    cause ? { cause } : undefined,
  );
}

function parseJournal(folder: string, text: string): JournalEntry[] {
  let journal: unknown;
  try {
    journal = JSON.parse(text);
  } catch (error) {
    throw invalid(folder, `meta/_journal.json is not valid JSON (${(error as Error).message})`, error);
  }
  const entries = (journal as { entries?: unknown } | null)?.entries;
  if (!Array.isArray(entries)) throw invalid(folder, 'meta/_journal.json has no "entries" array');
  const dialect = (journal as { dialect?: unknown }).dialect;
  if (dialect !== undefined && dialect !== "sqlite" && dialect !== "turso") {
    throw invalid(folder, `meta/_journal.json is for dialect ${JSON.stringify(dialect)}, not sqlite`);
  }
  return entries.map((entry: unknown, index: number) => {
    const { tag, when } = (entry ?? {}) as { tag?: unknown; when?: unknown };
    if (typeof tag !== "string" || tag === "" || tag.includes("/") || tag.includes("\\") || tag.includes("..")) {
      throw invalid(folder, `journal entry ${index} has no valid "tag"`);
    }
    if (typeof when !== "number" || !Number.isSafeInteger(when) || when < 0) {
      throw invalid(folder, `journal entry ${index} ("${tag}") has no valid "when" timestamp`);
    }
    return { tag, when };
  });
}

/** The folder's migrations in journal order. Throws MigrationError("invalid-folder") naming the problem. */
export function readDrizzleFolder(folder: string): DrizzleMigration[] {
  let journalText: string;
  try {
    journalText = readFileSync(join(folder, "meta", "_journal.json"), "utf8");
  } catch (error) {
    throw invalid(folder, "cannot read meta/_journal.json (is this a drizzle-kit `out` folder?)", error);
  }
  return parseJournal(folder, journalText).map(({ tag, when }) => {
    const file = join(folder, `${tag}.sql`);
    let text: string;
    try {
      // Decoded as UTF-8 before hashing, exactly as drizzle-orm does (Buffer#toString()).
      text = readFileSync(file, "utf8");
    } catch (error) {
      throw invalid(folder, `journal entry "${tag}" has no file ${tag}.sql`, error);
    }
    return Object.freeze({
      tag,
      when,
      hash: drizzleHash(text),
      statements: Object.freeze(text.split(STATEMENT_BREAKPOINT)),
      file,
    });
  });
}

/**
 * Drizzle's rule for "applied": a migration is applied when the newest bookkeeping row's
 * `created_at` is at least its `when` (drizzle-orm compares with the newest row only).
 */
export function pendingDrizzleMigrations(
  migrations: readonly DrizzleMigration[],
  lastCreatedAt: number | null,
): DrizzleMigration[] {
  return migrations.filter((m) => lastCreatedAt === null || lastCreatedAt < m.when);
}
