// Shared setup for the Prisma adapter tests: a temp SQLite file with the test schema (created by
// SQL DDL, as `prisma migrate` cannot run offline) and Prisma clients on it.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PrismaLiteFS, type PrismaLiteFSOptions } from "../../../src/driver/prisma/index.js";
import { PrismaClient } from "../generated/prisma/client.js";
import { applyTestSchema, devSettings } from "./schema.js";

export { PrismaClient };
export { applyTestSchema, devSettings };

export interface TempSchemaDatabase {
  readonly dir: string;
  readonly file: string;
  cleanup(): void;
}

/** A fresh temp directory holding `db` with the test schema applied. */
export function createTempSchemaDatabase(name = "db"): TempSchemaDatabase {
  const dir = mkdtempSync(join(tmpdir(), "litefs-node-prisma-"));
  const file = join(dir, name);
  applyTestSchema(file);
  return { dir, file, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** A Prisma client on `file` through our adapter, in dev mode. */
export function devClient(file: string, options: Omit<PrismaLiteFSOptions, "settings"> = {}): PrismaClient {
  return new PrismaClient({ adapter: new PrismaLiteFS({ ...options, settings: devSettings(file) }) });
}
