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
import { ArgumentConversionError } from "./conversion.js";
import { primaryCode, SQLITE_BUSY, sqliteCodeFromName } from "./sqlite-codes.js";

/** SQLITE_READONLY: what SQLite itself answers for a write it may not perform. */
const SQLITE_READONLY = 8;
const SQLITE_BUSY_SNAPSHOT = 517;

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
  if (error instanceof ArgumentConversionError) {
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
export function guardRefusal(error: LiteFSError): DriverAdapterError {
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

export function mapSqliteError(error: SqliteErrorLike): MappedError {
  const { code, message } = error;
  switch (code) {
    case "SQLITE_CONSTRAINT_UNIQUE":
    case "SQLITE_CONSTRAINT_PRIMARYKEY": {
      const detail = constraintDetail(message);
      if (detail?.startsWith("index ")) {
        // An expression index has no column list: "UNIQUE constraint failed: index 'idx'".
        return { kind: "UniqueConstraintViolation", constraint: { index: unquote(detail.slice("index ".length)) } };
      }
      const columns = splitColumns(detail);
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
      return { kind: "ForeignKeyConstraintViolation", constraint: { foreignKey: {} } };
    default:
      break;
  }
  const extendedCode = sqliteCodeFromName(code);
  if (extendedCode === SQLITE_BUSY_SNAPSHOT) {
    // A read transaction that tried to write after another connection committed: retryable.
    return { kind: "TransactionWriteConflict" };
  }
  if (extendedCode !== undefined && primaryCode(extendedCode) === SQLITE_BUSY) {
    // busy_timeout ran out waiting for another connection's lock.
    return { kind: "SocketTimeout" };
  }
  if (message.startsWith("no such table: ")) {
    return { kind: "TableDoesNotExist", table: message.slice("no such table: ".length) };
  }
  if (message.startsWith("no such column: ")) {
    // SQLite may append a hint: `no such column: "x" - should this be a string literal in single-quotes?`
    return { kind: "ColumnNotFound", column: unquote(message.slice("no such column: ".length).split(" - ")[0]!) };
  }
  const noColumnNamed = message.indexOf(" has no column named ");
  if (noColumnNamed !== -1) {
    return { kind: "ColumnNotFound", column: message.slice(noColumnNamed + " has no column named ".length) };
  }
  return { kind: "sqlite", extendedCode: extendedCode ?? 1, message };
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

function unquote(name: string): string {
  return name.replace(/^'(.*)'$|^"(.*)"$/, "$1$2");
}
