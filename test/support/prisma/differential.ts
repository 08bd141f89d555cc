// Differential testing against the official adapter: the same operation on
// @prisma/adapter-better-sqlite3 and on ours, each on its own copy of the same database, turned
// into comparable plain values (results, or errors with their Prisma codes and payloads).
import { copyFileSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { PrismaBetterSqlite3 } from "@prisma/adapter-better-sqlite3";
import type { SqlDriverAdapter, SqlDriverAdapterFactory } from "@prisma/driver-adapter-utils";
import { PrismaLiteFS } from "../../../src/driver/prisma/index.js";
import { devSettings } from "./harness.js";

export type Side = "official" | "ours";
export const SIDES: readonly Side[] = ["official", "ours"];

/** Both adapter factories, each on its own file holding the same schema and rows. */
export interface FactoryPair {
  readonly dir: string;
  readonly files: Readonly<Record<Side, string>>;
  readonly factories: Readonly<Record<Side, SqlDriverAdapterFactory>>;
  cleanup(): void;
}

export interface FactoryPairOptions {
  /** SQLite busy timeout of both sides (ms). Default 5000 (both adapters' default). */
  busyTimeoutMs?: number;
}

/**
 * Writes `setup` (SQL DDL and rows) once, in WAL mode, and copies the file for the other side:
 * byte-identical starting points.
 */
export function factoryPair(setup: (db: Database.Database) => void, options: FactoryPairOptions = {}): FactoryPair {
  const dir = mkdtempSync(join(tmpdir(), "litefs-node-prisma-diff-"));
  const files = { official: join(dir, "official.db"), ours: join(dir, "ours.db") };
  const db = new Database(files.official);
  try {
    db.pragma("journal_mode = WAL");
    setup(db);
    db.pragma("wal_checkpoint(TRUNCATE)");
  } finally {
    db.close();
  }
  copyFileSync(files.official, files.ours);
  const busyTimeoutMs = options.busyTimeoutMs ?? 5000;
  return {
    dir,
    files,
    factories: {
      official: new PrismaBetterSqlite3({ url: files.official, timeout: busyTimeoutMs }),
      ours: new PrismaLiteFS({ settings: devSettings(files.ours), busyTimeoutMs }),
    },
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** Connected adapters of a FactoryPair. */
export async function connectPair(pair: FactoryPair): Promise<Record<Side, SqlDriverAdapter>> {
  return { official: await pair.factories.official.connect(), ours: await pair.factories.ours.connect() };
}

export type Outcome = { readonly ok: true; readonly value: unknown } | { readonly ok: false; readonly error: unknown };

/** Runs `work` and returns its settled outcome as comparable plain data. */
export async function outcome(work: () => Promise<unknown>): Promise<Outcome> {
  try {
    return { ok: true, value: plain(await work()) };
  } catch (error) {
    return { ok: false, error: plainError(error) };
  }
}

/**
 * An error as plain data: name, message, Prisma's code and meta (a DriverAdapterError inside
 * meta, or thrown by itself, reduced to its MappedError payload).
 */
function plainError(error: unknown): unknown {
  if (!(error instanceof Error)) return { thrown: plain(error) };
  const out: Record<string, unknown> = { name: error.name, message: error.message };
  const { code, meta, cause } = error as { code?: unknown; meta?: Record<string, unknown>; cause?: unknown };
  if (code !== undefined) out.code = code;
  if (meta !== undefined) {
    const { driverAdapterError, ...rest } = meta;
    out.meta = plain(rest);
    if (driverAdapterError !== undefined)
      out.driverAdapterError = plain((driverAdapterError as { cause?: unknown }).cause);
  }
  if (error.name === "DriverAdapterError") out.cause = plain(cause);
  return out;
}

/**
 * A value as plain, deep-comparable data: bytes as `{ bytes: [...] }` whatever their class,
 * Decimals as `{ decimal: "..." }`, Dates as `{ date: iso }`, BigInts as `{ bigint: "..." }`,
 * undefined properties dropped (the official adapter spells out absent optional fields).
 */
function plain(value: unknown): unknown {
  if (value === null || value === undefined) return value ?? null;
  switch (typeof value) {
    case "bigint":
      return { bigint: value.toString() };
    case "number":
      return Number.isNaN(value) ? { number: "NaN" } : Object.is(value, -0) ? { number: "-0" } : value;
    case "object":
      break;
    default:
      return value;
  }
  if (value instanceof Uint8Array || value instanceof ArrayBuffer)
    return { bytes: Array.from(new Uint8Array(value as ArrayBufferLike)) };
  if (value instanceof Date) return { date: Number.isNaN(value.getTime()) ? "Invalid Date" : value.toISOString() };
  if (Array.isArray(value)) return value.map(plain);
  // A Decimal's own toString() gives its digits.
  // eslint-disable-next-line @typescript-eslint/no-base-to-string
  if (isDecimal(value)) return { decimal: value.toString() };
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) if (item !== undefined) out[key] = plain(item);
  return out;
}

function isDecimal(value: object): value is { toString(): string } {
  const candidate = value as { toFixed?: unknown; isFinite?: unknown; d?: unknown };
  return (
    typeof candidate.toFixed === "function" && typeof candidate.isFinite === "function" && Array.isArray(candidate.d)
  );
}
