// Reads a Prisma migrations folder (`prisma/migrations`): one directory per migration,
// `<timestamp>_<name>/migration.sql`, applied in name order; `migration_lock.toml` names the
// provider. Checksums are what Prisma's schema engine stores: sha256 hex of the script text.
import { sha256, sha256Hex } from "../src/digest.js";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { MigrationError } from "./errors.js";

export const PRISMA_MIGRATION_FILE = "migration.sql";
export const PRISMA_LOCK_FILE = "migration_lock.toml";

export interface PrismaMigration {
  /** The directory name, e.g. "20240101120000_init": Prisma's `migration_name`. */
  readonly name: string;
  readonly script: string;
  /** sha256 hex of `script`. */
  readonly checksum: string;
  readonly file: string;
}

export function prismaChecksum(script: string): string {
  return sha256Hex(script);
}

/**
 * Whether `script` matches a recorded checksum the way Prisma decides it: the script as is, or
 * with its line endings switched either way (git may have rewritten them on checkout), and,
 * for rows written by old Prisma versions, hex bytes without zero padding.
 */
export function prismaChecksumMatches(script: string, recorded: string): boolean {
  const variants = [script, script.replaceAll("\r\n", "\n"), script.replaceAll("\n", "\r\n")];
  return variants.some((variant) => {
    const digest = sha256(variant);
    if (recorded.length === 64) return digest.toString("hex") === recorded.toLowerCase();
    return recorded !== "" && [...digest].map((byte) => byte.toString(16)).join("") === recorded.toLowerCase();
  });
}

function invalid(folder: string, message: string, cause?: unknown): MigrationError {
  return new MigrationError(
    "invalid-folder",
    null,
    `Prisma migrations folder ${folder}: ${message}`,
    cause ? { cause } : undefined,
  );
}

// `provider = "sqlite"` in migration_lock.toml; anything else was generated for another database.
function checkLockFile(folder: string): void {
  let text: string;
  try {
    text = readFileSync(join(folder, PRISMA_LOCK_FILE), "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return;
    throw invalid(folder, `cannot read ${PRISMA_LOCK_FILE}`, error);
  }
  const provider = /^\s*provider\s*=\s*"([^"]*)"/m.exec(text)?.[1];
  if (provider !== undefined && provider !== "sqlite") {
    throw invalid(folder, `${PRISMA_LOCK_FILE} says provider "${provider}"; these migrations are not for SQLite`);
  }
}

// Byte order of the names, as Prisma sorts them (not locale order).
function byName(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** The folder's migrations in name order. Throws MigrationError("invalid-folder") naming the problem. */
export function readPrismaFolder(folder: string): PrismaMigration[] {
  let entries;
  try {
    entries = readdirSync(folder, { withFileTypes: true });
  } catch (error) {
    throw invalid(folder, "cannot read the directory", error);
  }
  checkLockFile(folder);
  return entries
    .filter((entry) => entry.isDirectory() && !entry.name.startsWith("."))
    .map((entry) => entry.name)
    .sort(byName)
    .map((name) => {
      const file = join(folder, name, PRISMA_MIGRATION_FILE);
      let script: string;
      try {
        script = readFileSync(file, "utf8");
      } catch (error) {
        throw invalid(folder, `migration directory "${name}" has no readable ${PRISMA_MIGRATION_FILE}`, error);
      }
      return Object.freeze({ name, script, checksum: prismaChecksum(script), file });
    });
}
