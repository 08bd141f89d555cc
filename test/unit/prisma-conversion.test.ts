import { ColumnTypeEnum, type ArgType } from "@prisma/driver-adapter-utils";
import { describe, expect, it } from "vitest";
import {
  columnTypeFromDeclared,
  columnTypeFromValue,
  resolveColumnTypes,
} from "../../src/driver/prisma/column-types.js";
import { ArgumentConversionError, formatDate, mapArg, mapArgs, mapRow } from "../../src/driver/prisma/conversion.js";

const t = (scalarType: ArgType["scalarType"], arity: ArgType["arity"] = "scalar"): ArgType => ({ scalarType, arity });

describe("mapArg", () => {
  it("passes nulls and plain values through", () => {
    expect(mapArg(null, t("string"), "iso8601")).toBeNull();
    expect(mapArg(undefined, t("int"), "iso8601")).toBeNull();
    expect(mapArg("x", t("string"), "iso8601")).toBe("x");
    expect(mapArg(42, t("int"), "iso8601")).toBe(42);
    expect(mapArg(1.5, t("float"), "iso8601")).toBe(1.5);
    expect(mapArg("ADMIN", t("enum"), "iso8601")).toBe("ADMIN");
  });

  it("parses integers given as text, exactly beyond 2^53", () => {
    expect(mapArg("12", t("int"), "iso8601")).toBe(12);
    expect(mapArg("9007199254740993", t("int"), "iso8601")).toBe(9007199254740993n);
    expect(mapArg("-9223372036854775808", t("bigint"), "iso8601")).toBe(-9223372036854775808n);
    expect(mapArg(5, t("bigint"), "iso8601")).toBe(5n);
    expect(() => mapArg("12abc", t("int"), "iso8601")).toThrow(ArgumentConversionError);
    expect(() => mapArg("1.5", t("bigint"), "iso8601")).toThrow(/argument 1: "1.5" is not an integer/);
  });

  it("parses floats given as text and rejects garbage", () => {
    expect(mapArg("2.5", t("float"), "iso8601")).toBe(2.5);
    expect(mapArg("NaN", t("float"), "iso8601")).toBeNaN();
    expect(() => mapArg("abc", t("float"), "iso8601")).toThrow(ArgumentConversionError);
  });

  it("binds decimals as REALs, except whole numbers that only an INTEGER holds exactly", () => {
    expect(mapArg("1234567890.123456789012345", t("decimal"), "iso8601")).toBe(1234567890.1234567);
    expect(mapArg("-1e-30", t("decimal"), "iso8601")).toBe(-1e-30);
    expect(mapArg("10", t("decimal"), "iso8601")).toBe(10);
    expect(mapArg("9007199254740992", t("decimal"), "iso8601")).toBe(9007199254740992);
    expect(mapArg("9007199254740993", t("decimal"), "iso8601")).toBe(9007199254740993n);
    expect(mapArg("-9223372036854775807", t("decimal"), "iso8601")).toBe(-9223372036854775807n);
    expect(mapArg("-9223372036854775808", t("decimal"), "iso8601")).toBe(-9223372036854775808); // -2^63: a REAL holds it
    expect(mapArg("9223372036854775809", t("decimal"), "iso8601")).toBe(2 ** 63); // 9223372036854775809 as a REAL
    // Raw-query numbers arrive typed "decimal": bound as they are (REAL), like the official adapter.
    expect(mapArg(7, t("decimal"), "iso8601")).toBe(7);
    expect(mapArg(0.5, t("decimal"), "iso8601")).toBe(0.5);
    expect(() => mapArg("1,5", t("decimal"), "iso8601")).toThrow(ArgumentConversionError);
    expect(() => mapArg("NaN", t("decimal"), "iso8601")).toThrow(ArgumentConversionError);
    // A Decimal.js-like value object goes the same way as its text.
    const decimalLike = { toFixed: () => "", isFinite: () => true, toString: () => "0.30000000000000000001" };
    expect(mapArg(decimalLike, t("unknown"), "iso8601")).toBe(0.3);
  });

  it("maps booleans to 1/0", () => {
    expect(mapArg(true, t("boolean"), "iso8601")).toBe(1);
    expect(mapArg(false, t("unknown"), "iso8601")).toBe(0);
  });

  it("writes datetimes in both formats, from Date or text", () => {
    const date = new Date("2024-02-29T12:34:56.789Z");
    expect(mapArg(date, t("datetime"), "iso8601")).toBe("2024-02-29T12:34:56.789+00:00");
    expect(mapArg("2024-02-29T12:34:56.789Z", t("datetime"), "iso8601")).toBe("2024-02-29T12:34:56.789+00:00");
    expect(mapArg(date, t("datetime"), "unixepoch-ms")).toBe(date.getTime());
    expect(mapArg("2024-02-29T12:34:56.789Z", t("datetime"), "unixepoch-ms")).toBe(date.getTime());
    expect(() => mapArg("not a date", t("datetime"), "iso8601")).toThrow(/"not a date" is not a date/);
    expect(() => formatDate(new Date(Number.NaN), "iso8601")).toThrow(ArgumentConversionError);
  });

  it("binds bytes from base64 text, Uint8Array and Buffer", () => {
    expect(mapArg("AAEC/w==", t("bytes"), "iso8601")).toEqual(Buffer.from([0, 1, 2, 255]));
    const view = new Uint8Array([9, 8, 7, 6]).subarray(1, 3);
    expect(mapArg(view, t("bytes"), "iso8601")).toEqual(Buffer.from([8, 7]));
    const buffer = Buffer.from([1]);
    expect(mapArg(buffer, t("bytes"), "iso8601")).toBe(buffer);
  });

  it("serialises JSON objects and keeps JSON text", () => {
    expect(mapArg('{"a":1}', t("json"), "iso8601")).toBe('{"a":1}');
    expect(mapArg({ a: [1, null] }, t("json"), "iso8601")).toBe('{"a":[1,null]}');
  });

  it("binds list arguments as a JSON array", () => {
    expect(mapArg([1, 2, 3], t("int", "list"), "iso8601")).toBe("[1,2,3]");
    expect(mapArg(["9007199254740993"], t("bigint", "list"), "iso8601")).toBe('["9007199254740993"]');
  });

  it("maps a whole argument list and names the bad argument", () => {
    expect(mapArgs([1, "2", true], [t("int"), t("int"), t("boolean")], "iso8601")).toEqual([1, 2, 1]);
    expect(() => mapArgs([1, "x"], [t("int"), t("int")], "iso8601")).toThrow(/argument 2/);
    expect(() => mapArg(Symbol("s"), t("unknown"), "iso8601")).toThrow(/cannot bind a value of type symbol/);
  });
});

describe("mapRow", () => {
  it("converts safe-integer BigInts to numbers and keeps larger ones exact as text", () => {
    const row = [5n, 9007199254740993n, -1n, null];
    expect(mapRow(row, [ColumnTypeEnum.Int32, ColumnTypeEnum.Int64, ColumnTypeEnum.Int64, ColumnTypeEnum.Int64])).toBe(
      false,
    );
    expect(row).toEqual([5, "9007199254740993", -1, null]);
  });

  it("turns epoch numbers in DateTime columns into ISO text and leaves text alone", () => {
    const ms = Date.UTC(2020, 0, 2, 3, 4, 5, 6);
    const row = [BigInt(ms), ms, "2020-01-02 03:04:05"];
    mapRow(row, [ColumnTypeEnum.DateTime, ColumnTypeEnum.DateTime, ColumnTypeEnum.DateTime]);
    expect(row).toEqual(["2020-01-02T03:04:05.006Z", "2020-01-02T03:04:05.006Z", "2020-01-02 03:04:05"]);
  });

  it("truncates a REAL stored in an integer column, keeps floats and bytes", () => {
    const bytes = Buffer.from([1, 2]);
    const row = [2.7, 2.7, bytes];
    mapRow(row, [ColumnTypeEnum.Int32, ColumnTypeEnum.Double, ColumnTypeEnum.Bytes]);
    expect(row).toEqual([2, 2.7, bytes]);
  });

  it("reports a number at or beyond 2^53 (an integer read as a number may be inexact there)", () => {
    expect(
      mapRow([2 ** 53 - 1, -(2 ** 53 - 1), 1.5], [ColumnTypeEnum.Int32, ColumnTypeEnum.Int32, ColumnTypeEnum.Double]),
    ).toBe(false);
    expect(mapRow([2 ** 53], [ColumnTypeEnum.Int32])).toBe(true);
    expect(mapRow([-1e300], [ColumnTypeEnum.Double])).toBe(true);
  });
});

describe("column types", () => {
  it("maps Prisma's declared types exactly", () => {
    expect(columnTypeFromDeclared("INTEGER")).toBe(ColumnTypeEnum.Int32);
    expect(columnTypeFromDeclared("BIGINT")).toBe(ColumnTypeEnum.Int64);
    expect(columnTypeFromDeclared("REAL")).toBe(ColumnTypeEnum.Double);
    expect(columnTypeFromDeclared("DECIMAL")).toBe(ColumnTypeEnum.Numeric);
    expect(columnTypeFromDeclared("boolean")).toBe(ColumnTypeEnum.Boolean);
    expect(columnTypeFromDeclared("DATETIME")).toBe(ColumnTypeEnum.DateTime);
    expect(columnTypeFromDeclared("BLOB")).toBe(ColumnTypeEnum.Bytes);
    expect(columnTypeFromDeclared("JSONB")).toBe(ColumnTypeEnum.Json);
    expect(columnTypeFromDeclared("TEXT")).toBe(ColumnTypeEnum.Text);
  });

  it("leaves every other declared type (parameterised, JSON, hand-written) to the values, like the official adapter", () => {
    for (const declared of [
      "VARCHAR(255)",
      "DECIMAL(10, 2)",
      "UNSIGNED INT",
      "JSON",
      "LONGBLOB",
      "FLOAT8",
      "MONEY",
      "",
      null,
    ]) {
      expect(columnTypeFromDeclared(declared), String(declared)).toBeNull();
    }
  });

  it("types undeclared columns from their first non-null value, Buffer included", () => {
    expect(columnTypeFromValue("a")).toBe(ColumnTypeEnum.Text);
    expect(columnTypeFromValue(1n)).toBe(ColumnTypeEnum.Int64);
    expect(columnTypeFromValue(1.5)).toBe(ColumnTypeEnum.UnknownNumber);
    expect(columnTypeFromValue(Buffer.from([1]))).toBe(ColumnTypeEnum.Bytes);
    expect(() => columnTypeFromValue({})).toThrow(TypeError);
    const types = resolveColumnTypes(
      [ColumnTypeEnum.Text, null, null],
      [1, 2],
      [
        [1, null, null],
        [2, "x", null],
      ],
    );
    expect(types).toEqual([ColumnTypeEnum.Text, ColumnTypeEnum.Text, ColumnTypeEnum.Int32]);
    // An integer first and a REAL later: a number column, not Int64 (which would truncate 12.5).
    expect(resolveColumnTypes([null], [0], [[12n], [12.5]])).toEqual([ColumnTypeEnum.UnknownNumber]);
    expect(resolveColumnTypes([null], [0], [[12n], [13n]])).toEqual([ColumnTypeEnum.Int64]);
  });
});
