// Which Prisma ColumnType a result column has. SQLite reports a column's declared type only for
// plain table columns; expressions (COUNT(*), literals, CASE …) have none and are typed from
// the values they actually hold. The mapping is the official adapter's, so that $queryRaw gives
// the same types: declared types it does not list (`DECIMAL(10,2)`, `JSON`, `VARCHAR(255)`) are
// typed from their values like expressions.
import { ColumnTypeEnum, type ColumnType } from "@prisma/driver-adapter-utils";

const EXACT: ReadonlyMap<string, ColumnType> = new Map<string, ColumnType>([
  ["DECIMAL", ColumnTypeEnum.Numeric],
  ["FLOAT", ColumnTypeEnum.Float],
  ["DOUBLE", ColumnTypeEnum.Double],
  ["DOUBLE PRECISION", ColumnTypeEnum.Double],
  ["NUMERIC", ColumnTypeEnum.Double],
  ["REAL", ColumnTypeEnum.Double],
  ["TINYINT", ColumnTypeEnum.Int32],
  ["SMALLINT", ColumnTypeEnum.Int32],
  ["MEDIUMINT", ColumnTypeEnum.Int32],
  ["INT", ColumnTypeEnum.Int32],
  ["INTEGER", ColumnTypeEnum.Int32],
  ["SERIAL", ColumnTypeEnum.Int32],
  ["INT2", ColumnTypeEnum.Int32],
  ["BIGINT", ColumnTypeEnum.Int64],
  ["UNSIGNED BIG INT", ColumnTypeEnum.Int64],
  ["INT8", ColumnTypeEnum.Int64],
  ["DATETIME", ColumnTypeEnum.DateTime],
  ["TIMESTAMP", ColumnTypeEnum.DateTime],
  ["TIME", ColumnTypeEnum.Time],
  ["DATE", ColumnTypeEnum.Date],
  ["TEXT", ColumnTypeEnum.Text],
  ["CLOB", ColumnTypeEnum.Text],
  ["CHARACTER", ColumnTypeEnum.Text],
  ["VARCHAR", ColumnTypeEnum.Text],
  ["VARYING CHARACTER", ColumnTypeEnum.Text],
  ["NCHAR", ColumnTypeEnum.Text],
  ["NATIVE CHARACTER", ColumnTypeEnum.Text],
  ["NVARCHAR", ColumnTypeEnum.Text],
  ["BLOB", ColumnTypeEnum.Bytes],
  ["BOOLEAN", ColumnTypeEnum.Boolean],
  ["JSONB", ColumnTypeEnum.Json],
]);

/** Maps a declared column type to a ColumnType, or null when the values must decide. */
export function columnTypeFromDeclared(declared: string | null): ColumnType | null {
  if (declared === null || declared === "") return null;
  return EXACT.get(declared.toUpperCase()) ?? null;
}

/** The type of an undeclared column, from one of its non-null values (as better-sqlite3 returns them). */
export function columnTypeFromValue(value: unknown): ColumnType {
  switch (typeof value) {
    case "string":
      return ColumnTypeEnum.Text;
    case "bigint":
      return ColumnTypeEnum.Int64;
    case "number":
      // With safe integers on, a JS number from SQLite is always a REAL.
      return ColumnTypeEnum.UnknownNumber;
    case "boolean":
      return ColumnTypeEnum.Boolean;
    default:
      // better-sqlite3 returns BLOBs as Buffer (a Uint8Array, not an ArrayBuffer).
      if (value instanceof Uint8Array) return ColumnTypeEnum.Bytes;
      throw new TypeError(`unexpected SQLite result value of type ${typeof value}`);
  }
}

/**
 * Column types of one result set: declared types first, the values of the rows for the rest.
 * `declared` holds the precomputed declared mapping (cached with the statement).
 * As in the official adapter, the first non-null value decides, and a column that is null in
 * every row is reported as Int32. One exception: an integer first and a REAL later makes the
 * column UnknownNumber, where the official adapter reports Int64 and truncates the REAL
 * (12.5 read as 12n).
 */
export function resolveColumnTypes(
  declared: readonly (ColumnType | null)[],
  undeclared: readonly number[],
  rows: readonly unknown[][],
): ColumnType[] {
  const types = declared.slice() as ColumnType[];
  for (const index of undeclared) types[index] = typeFromValues(rows, index);
  return types;
}

function typeFromValues(rows: readonly unknown[][], index: number): ColumnType {
  for (let r = 0; r < rows.length; r++) {
    const value = rows[r]![index];
    if (value === null || value === undefined) continue;
    const type = columnTypeFromValue(value);
    if (type === ColumnTypeEnum.Int64 && holdsFraction(rows, index, r + 1)) return ColumnTypeEnum.UnknownNumber;
    return type;
  }
  return ColumnTypeEnum.Int32;
}

function holdsFraction(rows: readonly unknown[][], index: number, from: number): boolean {
  for (let r = from; r < rows.length; r++) {
    const value = rows[r]![index];
    if (typeof value === "number" && !Number.isInteger(value)) return true;
  }
  return false;
}
