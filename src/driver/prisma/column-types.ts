// Which Prisma ColumnType a result column has. SQLite reports a column's declared type only for
// plain table columns; expressions (COUNT(*), literals, CASE …) have none and are typed from
// the values they actually hold.
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
  ["JSON", ColumnTypeEnum.Json],
  ["JSONB", ColumnTypeEnum.Json],
]);

/**
 * Maps a declared column type to a ColumnType, or null when the values must decide.
 * Beyond the exact names Prisma's migrations emit, parameterised forms (`VARCHAR(255)`,
 * `DECIMAL(10,2)`) and SQLite's affinity rules (https://sqlite.org/datatype3.html §3.1) cover
 * hand-written DDL, so a `NVARCHAR(40)` column is text rather than a guess from its first value.
 */
export function columnTypeFromDeclared(declared: string | null): ColumnType | null {
  if (declared === null || declared === "") return null;
  const upper = declared.toUpperCase().trim();
  const exact = EXACT.get(upper);
  if (exact !== undefined) return exact;
  const base = upper.replace(/\s*\(.*\)\s*$/, "");
  const byBase = EXACT.get(base);
  if (byBase !== undefined) return byBase;
  // SQLite affinity rules, in SQLite's own order of precedence.
  if (base.includes("INT")) return ColumnTypeEnum.Int64;
  if (base.includes("CHAR") || base.includes("CLOB") || base.includes("TEXT")) return ColumnTypeEnum.Text;
  if (base.includes("BLOB")) return ColumnTypeEnum.Bytes;
  if (base.includes("REAL") || base.includes("FLOA") || base.includes("DOUB")) return ColumnTypeEnum.Double;
  return null;
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
 * A column that is undeclared and null in every row is reported as Int32, like the official adapter.
 */
export function resolveColumnTypes(
  declared: readonly (ColumnType | null)[],
  undeclared: readonly number[],
  rows: readonly unknown[][],
): ColumnType[] {
  const types = declared.slice() as ColumnType[];
  for (const index of undeclared) {
    let type: ColumnType = ColumnTypeEnum.Int32;
    for (const row of rows) {
      const value = row[index];
      if (value !== null && value !== undefined) {
        type = columnTypeFromValue(value);
        break;
      }
    }
    types[index] = type;
  }
  return types;
}
