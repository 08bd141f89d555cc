// Value conversion between Prisma's query arguments / result rows and what better-sqlite3 binds
// and returns. Stateless functions, unit-tested on their own.
import { ColumnTypeEnum, type ArgType, type ColumnType } from "@prisma/driver-adapter-utils";
import { hasErrorCode } from "../../error-brand.js";

/** How DateTime values are written: ISO 8601 text (Prisma's default) or Unix epoch milliseconds. */
export type TimestampFormat = "iso8601" | "unixepoch-ms";

/** A value better-sqlite3 can bind. */
export type BindValue = null | number | bigint | string | Buffer;

/** Thrown for an argument that cannot be bound; mapped to Prisma's InvalidInputValue. */
export class ArgumentConversionError extends Error {
  override readonly name = "ArgumentConversionError";
  readonly code = "LITEFS_ARGUMENT_CONVERSION";
}

/** True when `e` is an ArgumentConversionError, by its code (works across package copies). */
export function isArgumentConversionError(e: unknown): e is ArgumentConversionError {
  return hasErrorCode(e, "LITEFS_ARGUMENT_CONVERSION");
}

const INTEGER_TEXT = /^[+-]?\d+$/;

export function mapArgs(args: readonly unknown[], argTypes: readonly ArgType[], format: TimestampFormat): BindValue[] {
  const out = new Array<BindValue>(args.length);
  for (let i = 0; i < args.length; i++) out[i] = mapArg(args[i], argTypes[i], format, i);
  return out;
}

export function mapArg(arg: unknown, argType: ArgType | undefined, format: TimestampFormat, index = 0): BindValue {
  if (arg === null || arg === undefined) return null;
  if (argType?.arity === "list") {
    // SQLite has no arrays: a list argument is bound as a JSON array (usable with json_each).
    if (!Array.isArray(arg)) return mapScalar(arg, argType.scalarType, format, index);
    const element: ArgType = { scalarType: argType.scalarType, arity: "scalar" };
    return JSON.stringify(arg.map((item) => jsonValue(mapArg(item, element, format, index))));
  }
  return mapScalar(arg, argType?.scalarType ?? "unknown", format, index);
}

function mapScalar(arg: unknown, scalarType: ArgType["scalarType"], format: TimestampFormat, index: number): BindValue {
  switch (scalarType) {
    case "int":
      if (typeof arg === "string") return integerFromText(arg, index);
      break;
    case "bigint":
      if (typeof arg === "string") return bigintFromText(arg, index);
      if (typeof arg === "number" && Number.isInteger(arg)) return BigInt(arg);
      break;
    case "float":
      if (typeof arg === "string") return numberFromText(arg, index);
      break;
    case "decimal":
      // Prisma sends raw-query numbers and Float fields typed "decimal" as JS numbers: bound as
      // they are (a REAL, like the official adapter: `${42} || 'x'` is '42.0x').
      if (typeof arg === "string") return decimalFromText(arg, index);
      break;
    case "datetime":
      if (typeof arg === "string") return formatDate(parseDate(arg, index), format);
      break;
    case "bytes":
      if (typeof arg === "string") return Buffer.from(arg, "base64");
      break;
    case "json":
      if (typeof arg === "object" && !(arg instanceof Uint8Array) && !(arg instanceof Date)) return JSON.stringify(arg);
      break;
    default:
      break;
  }
  return mapByJsType(arg, format, index);
}

function mapByJsType(arg: unknown, format: TimestampFormat, index: number): BindValue {
  switch (typeof arg) {
    case "string":
    case "number":
    case "bigint":
      return arg;
    case "boolean":
      return arg ? 1 : 0;
    case "object": {
      if (arg === null) return null;
      if (arg instanceof Date) return formatDate(arg, format);
      if (Buffer.isBuffer(arg)) return arg;
      if (arg instanceof Uint8Array) return Buffer.from(arg.buffer, arg.byteOffset, arg.byteLength);
      if (arg instanceof ArrayBuffer) return Buffer.from(arg);
      // Decimal.js and similar value objects: as their text would be.
      // A Decimal.js value's own toString() gives its exact digits (isDecimalLike checked it is one).
      // eslint-disable-next-line @typescript-eslint/no-base-to-string
      if (isDecimalLike(arg)) return decimalFromText(arg.toString(), index);
      return JSON.stringify(arg);
    }
    default:
      throw new ArgumentConversionError(`argument ${index + 1}: cannot bind a value of type ${typeof arg}`);
  }
}

function isDecimalLike(value: object): value is { toString(): string } {
  const candidate = value as { toFixed?: unknown; isFinite?: unknown; constructor?: { name?: string } };
  return typeof candidate.toFixed === "function" && typeof candidate.isFinite === "function";
}

function integerFromText(text: string, index: number): number | bigint {
  if (!INTEGER_TEXT.test(text)) throw new ArgumentConversionError(`argument ${index + 1}: "${text}" is not an integer`);
  const value = Number(text);
  return Number.isSafeInteger(value) ? value : BigInt(text);
}

function bigintFromText(text: string, index: number): bigint {
  if (!INTEGER_TEXT.test(text)) throw new ArgumentConversionError(`argument ${index + 1}: "${text}" is not an integer`);
  return BigInt(text);
}

function numberFromText(text: string, index: number): number {
  const value = Number(text);
  if (text.trim() === "" || (Number.isNaN(value) && text !== "NaN")) {
    throw new ArgumentConversionError(`argument ${index + 1}: "${text}" is not a number`);
  }
  return value;
}

const DECIMAL_TEXT = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/**
 * A decimal as the official adapter binds it, a REAL (parseFloat), so that raw comparisons and
 * arithmetic give the same answers (`${new Decimal("10")} = 10` is true). Except where a REAL
 * would change the value and SQLite can hold it exactly: a whole number beyond 2^53 that fits
 * in 64 bits and that no REAL equals is bound as an INTEGER (README: differences from the official
 * adapter).
 */
function decimalFromText(text: string, index: number): number | bigint {
  if (!DECIMAL_TEXT.test(text))
    throw new ArgumentConversionError(`argument ${index + 1}: "${text}" is not a decimal number`);
  const value = Number(text);
  if (!Number.isSafeInteger(value) && Number.isFinite(value) && INTEGER_TEXT.test(text)) {
    const exact = BigInt(text);
    if (exact >= INT64_MIN && exact <= INT64_MAX && BigInt(value) !== exact) return exact;
  }
  return value;
}

function parseDate(text: string, index: number): Date {
  const date = new Date(text);
  if (Number.isNaN(date.getTime())) throw new ArgumentConversionError(`argument ${index + 1}: "${text}" is not a date`);
  return date;
}

/** A Date as stored: `2024-05-01T10:00:00.000+00:00` (like Prisma's own SQLite connector) or epoch ms. */
export function formatDate(date: Date, format: TimestampFormat): string | number {
  if (Number.isNaN(date.getTime())) throw new ArgumentConversionError("cannot bind an invalid Date");
  return format === "unixepoch-ms" ? date.getTime() : date.toISOString().replace("Z", "+00:00");
}

function jsonValue(value: BindValue): unknown {
  if (typeof value === "bigint") return Number.isSafeInteger(Number(value)) ? Number(value) : value.toString();
  if (Buffer.isBuffer(value)) return value.toString("base64");
  return value;
}

/**
 * Converts one raw row in place into what Prisma expects for the given column types.
 * Integers arrive as BigInt, or as numbers where the statement reads them on demand
 * (statement-cache.ts readColumns). Returns true when the row holds a number at or beyond 2^53
 * (which, read as a number, may be an inexact integer: the caller reads the row again exactly).
 */
export function mapRow(row: unknown[], columnTypes: readonly ColumnType[]): boolean {
  let unsafe = false;
  for (let i = 0; i < row.length; i++) {
    const value = row[i];
    if (value === null) continue;
    const type = columnTypes[i];
    if (typeof value === "bigint") {
      if (type === ColumnTypeEnum.DateTime) {
        row[i] = epochToIso(Number(value));
      } else {
        const asNumber = Number(value);
        // Prisma parses the string form of a 64-bit integer exactly (BigInt / Decimal columns).
        row[i] = Number.isSafeInteger(asNumber) ? asNumber : value.toString();
      }
    } else if (typeof value === "number") {
      if (value > Number.MAX_SAFE_INTEGER || value < -Number.MAX_SAFE_INTEGER) unsafe = true;
      if (type === ColumnTypeEnum.DateTime) row[i] = epochToIso(value);
      else if ((type === ColumnTypeEnum.Int32 || type === ColumnTypeEnum.Int64) && !Number.isInteger(value)) {
        // A REAL in an integer-typed column (SQLite is dynamically typed): Prisma expects an integer.
        row[i] = Math.trunc(value);
      }
    }
  }
  return unsafe;
}

function epochToIso(ms: number): string {
  const date = new Date(ms);
  return Number.isNaN(date.getTime()) ? String(ms) : date.toISOString();
}
