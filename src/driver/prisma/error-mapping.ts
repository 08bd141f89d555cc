// Turns what better-sqlite3 and the write gate throw into the DriverAdapterError Prisma expects.
//
// How Prisma 7.10 surfaces adapter errors (checked against the generated client): a
// DriverAdapterError becomes a PrismaClientKnownRequestError whose code comes from the
// MappedError kind (P2002, P2003, …; `kind: "sqlite"` gives P2039, or P2010 for raw queries)
// and whose `meta.driverAdapterError` is the very DriverAdapterError we threw. Any other error
// loses its `cause` chain on the way. So a guard refusal travels as a `kind: "sqlite"` error
// whose payload carries the original NotPrimaryError/SplitBrainError as `cause`:
// isNotPrimaryError() walks error -> meta.driverAdapterError -> cause (payload) -> cause, and the
// message Prisma prints ("Database error. Code: `LITEFS_NOT_PRIMARY`. Message: `…the primary
// is "node-a"…`") names the primary.
import { DriverAdapterError, type Error as AdapterErrorPayload, type MappedError } from "@prisma/driver-adapter-utils";
import { LiteFSError } from "../../errors.js";
import { isArgumentConversionError } from "./conversion.js";

/** SQLITE_READONLY: what SQLite itself answers for a write it may not perform. */
const SQLITE_READONLY = 8;
const SQLITE_BUSY = 5;

interface SqliteErrorLike {
  readonly code: string;
  readonly message: string;
}

function isSqliteError(error: unknown): error is SqliteErrorLike & Error {
  if (!(error instanceof Error)) return false;
  const code = (error as { code?: unknown }).code;
  return typeof code === "string" && (code.startsWith("SQLITE_") || code.startsWith("UNKNOWN_SQLITE_ERROR_"));
}

/**
 * Converts an error thrown while executing a statement. Returns the error to throw: a
 * DriverAdapterError for everything Prisma can map; other errors unchanged (Prisma reports
 * them as request errors with their own message).
 */
export function toAdapterError(error: unknown): unknown {
  if (error instanceof DriverAdapterError) return error;
  if (error instanceof LiteFSError) return guardRefusal(error);
  if (isArgumentConversionError(error)) {
    return new DriverAdapterError({ kind: "InvalidInputValue", message: error.message });
  }
  if (isSqliteError(error)) {
    return new DriverAdapterError({
      ...mapSqliteError(error),
      originalCode: error.code,
      originalMessage: error.message,
    });
  }
  return error;
}

/** A write refused by the gate (or any other LiteFSError), in a form Prisma passes through intact. */
function guardRefusal(error: LiteFSError): DriverAdapterError {
  const payload: AdapterErrorPayload = {
    kind: "sqlite",
    extendedCode: SQLITE_READONLY,
    message: error.message,
    originalCode: error.code,
    originalMessage: error.message,
  };
  // Not part of MappedError's type: the link isNotPrimaryError()/isSplitBrainError() follow.
  // Non-enumerable so that logging the payload does not print the whole chain twice.
  Object.defineProperty(payload, "cause", { value: error, enumerable: false });
  return new DriverAdapterError(payload);
}

/** True for the DriverAdapterError guardRefusal() makes (a write this node may not make). */
export function isGuardRefusal(error: unknown): boolean {
  if (!(error instanceof DriverAdapterError)) return false;
  const cause = (error.cause as { cause?: unknown }).cause;
  return cause instanceof LiteFSError && (cause.code === "LITEFS_NOT_PRIMARY" || cause.code === "LITEFS_SPLIT_BRAIN");
}

/**
 * Maps a SQLite error the way @prisma/adapter-better-sqlite3 7.10 does (the differential tests
 * in test/integration/prisma-differential-*.test.ts hold both to the same answers), with one
 * intended exception: a trigger's own RAISE() stays a `sqlite` error instead of a foreign key
 * violation (README, "Differences from the official adapter").
 */
export function mapSqliteError(error: SqliteErrorLike): MappedError {
  const { code, message } = error;
  switch (code) {
    case "SQLITE_CONSTRAINT_UNIQUE":
    case "SQLITE_CONSTRAINT_PRIMARYKEY": {
      // An expression index has no column list ("UNIQUE constraint failed: index 'idx'"); like
      // the official adapter, that text is reported as the one field.
      const columns = splitColumns(constraintDetail(message));
      if (!columns) return { kind: "UniqueConstraintViolation" };
      const table = tableOf(columns[0]!);
      return table === undefined
        ? { kind: "UniqueConstraintViolation", constraint: { fields: columns.map(fieldOf) } }
        : { kind: "UniqueConstraintViolation", constraint: { fields: columns.map(fieldOf) }, table };
    }
    case "SQLITE_CONSTRAINT_NOTNULL": {
      const columns = splitColumns(constraintDetail(message));
      return columns
        ? { kind: "NullConstraintViolation", constraint: { fields: columns.map(fieldOf) } }
        : { kind: "NullConstraintViolation" };
    }
    case "SQLITE_CONSTRAINT_FOREIGNKEY":
      return FOREIGN_KEY_VIOLATION;
    case "SQLITE_CONSTRAINT_TRIGGER":
      // ON DELETE/UPDATE RESTRICT is enforced by SQLite's internal FK trigger and reported under
      // this code with SQLite's own FK message; anything else here is a user trigger's RAISE().
      if (message === FOREIGN_KEY_MESSAGE) return FOREIGN_KEY_VIOLATION;
      break;
    default:
      break;
  }
  if (code.startsWith("SQLITE_BUSY") || primaryCodeOfUnknown(code) === SQLITE_BUSY) {
    // busy_timeout ran out waiting for another connection's lock (or a stale WAL snapshot).
    return { kind: "SocketTimeout" };
  }
  if (message.startsWith("no such table")) {
    return { kind: "TableDoesNotExist", table: message.split(": ")[1] };
  }
  if (message.startsWith("no such column")) {
    // SQLite's hint stays: `"x" - should this be a string literal in single-quotes?`
    return { kind: "ColumnNotFound", column: message.split(": ")[1] };
  }
  const noColumnNamed = message.indexOf(" has no column named ");
  if (noColumnNamed !== -1) {
    return { kind: "ColumnNotFound", column: message.slice(noColumnNamed + " has no column named ".length) };
  }
  // better-sqlite3 names the result code but does not give its number; the official adapter
  // reports 1 (SQLITE_ERROR) then, and the number only for codes better-sqlite3 does not know.
  return { kind: "sqlite", extendedCode: unknownCode(code) ?? 1, message };
}

const FOREIGN_KEY_MESSAGE = "FOREIGN KEY constraint failed";
const FOREIGN_KEY_VIOLATION: MappedError = Object.freeze({
  kind: "ForeignKeyConstraintViolation",
  constraint: Object.freeze({ foreignKey: Object.freeze({}) }),
});

// better-sqlite3 names codes it does not know `UNKNOWN_SQLITE_ERROR_<n>`.
const UNKNOWN_PREFIX = "UNKNOWN_SQLITE_ERROR_";

function unknownCode(code: string): number | undefined {
  if (!code.startsWith(UNKNOWN_PREFIX)) return undefined;
  const n = Number(code.slice(UNKNOWN_PREFIX.length));
  return Number.isInteger(n) ? n : undefined;
}

function primaryCodeOfUnknown(code: string): number | undefined {
  const n = unknownCode(code);
  return n === undefined ? undefined : n & 0xff;
}

function constraintDetail(message: string): string | undefined {
  const marker = "constraint failed: ";
  const at = message.indexOf(marker);
  return at === -1 ? undefined : message.slice(at + marker.length);
}

function splitColumns(detail: string | undefined): string[] | undefined {
  if (detail === undefined || detail === "") return undefined;
  return detail.split(", ");
}

function fieldOf(column: string): string {
  const dot = column.lastIndexOf(".");
  return dot === -1 ? column : column.slice(dot + 1);
}

function tableOf(column: string): string | undefined {
  const dot = column.lastIndexOf(".");
  return dot <= 0 ? undefined : column.slice(0, dot);
}
