import { afterEach, describe, expect, it } from "vitest";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { LiteFSError } from "../../src/errors.js";
import {
  lagMsForJson,
  NEVER_SYNCED_LAG_MS,
  parseLagFile,
  parsePositionFile,
  parsePrimaryFile,
  readLagFile,
  readPositionFile,
  readPrimaryFile,
} from "../../src/litefs/mount-files.js";
import {
  createTempMount,
  formatLag,
  formatPosition,
  readLitefsFixture,
  type TempMount,
} from "../support/litefs-mount.js";

describe("mount file parsers against the LiteFS 0.5.14 fixtures", () => {
  it("reads .primary of a replica", () => {
    expect(parsePrimaryFile(readLitefsFixture("primary-file-replica.txt"))).toBe("node-a");
  });

  it("reads <db>-pos as a bigint TXID and the checksum", () => {
    const content = readLitefsFixture("db-pos.txt");
    expect(content).toHaveLength(34);
    expect(parsePositionFile(content)).toEqual({ txid: 4n, checksum: "a2fc350afcb62d33" });
  });

  it("reads .lag of the primary and of a replica", () => {
    expect(parseLagFile(readLitefsFixture("lag-primary.txt"))).toEqual(0);
    expect(parseLagFile(readLitefsFixture("lag-replica.txt"))).toEqual(281);
  });

  it("surfaces the never-synced value distinctly", () => {
    expect(parseLagFile(`+${NEVER_SYNCED_LAG_MS}\n`)).toBe(Number.POSITIVE_INFINITY);
    expect(parseLagFile("+2147483646\n")).toEqual(2147483646);
  });

  it("prints the never-synced lag as LiteFS's number in JSON, and every other lag as it is", () => {
    const neverSynced = lagMsForJson(parseLagFile(`+${NEVER_SYNCED_LAG_MS}\n`));
    expect(neverSynced).toBe(2147483647);
    expect(JSON.parse(JSON.stringify({ lagMs: neverSynced }))).toEqual({ lagMs: 2147483647 });
    expect(lagMsForJson(281)).toBe(281);
    expect(lagMsForJson(0)).toBe(0);
    expect(lagMsForJson(-12)).toBe(-12);
    expect(lagMsForJson(null)).toBeNull(); // unknown stays unknown
  });

  it("accepts a negative lag (clock skew between nodes)", () => {
    expect(parseLagFile("-000000012\n")).toEqual(-12);
  });

  it("keeps full 64-bit TXIDs exact", () => {
    expect(parsePositionFile("ffffffffffffffff/0000000000000001\n").txid).toBe(2n ** 64n - 1n);
  });

  it("round-trips the support helpers' LiteFS formatting", () => {
    expect(formatLag(0)).toBe(readLitefsFixture("lag-primary.txt"));
    expect(formatLag(281)).toBe(readLitefsFixture("lag-replica.txt"));
    expect(formatPosition(4n, "a2fc350afcb62d33")).toBe(readLitefsFixture("db-pos.txt"));
  });

  it.each([
    ["", "empty"],
    ["\n", "only a newline"],
    ["node a\n", "a space inside"],
  ])("rejects .primary %j (%s) with an error naming the file", (content) => {
    expect(() => parsePrimaryFile(content, "/mnt/.primary")).toThrow(/malformed LiteFS file \/mnt\/\.primary/);
  });

  it.each([
    "0000000000000004/a2fc350afcb62d33", // no newline
    "4/a2fc350afcb62d33\n", // not zero-padded
    "0000000000000004-a2fc350afcb62d33\n",
    "000000000000000g/a2fc350afcb62d33\n",
    "",
  ])("rejects <db>-pos %j with an error naming the file", (content) => {
    const error = (() => {
      try {
        parsePositionFile(content, "/mnt/db-pos");
      } catch (e) {
        return e;
      }
      return null;
    })();
    expect(error).toBeInstanceOf(LiteFSError);
    expect((error as LiteFSError).code).toBe("LITEFS_MOUNT");
    expect((error as LiteFSError).message).toContain("/mnt/db-pos");
  });

  it.each(["000000281\n", "+281\n", "+000000281", "+00000028x\n", "", "+000000281\n\n"])(
    "rejects .lag %j with an error naming the file",
    (content) => {
      expect(() => parseLagFile(content, "/mnt/.lag")).toThrow(/\/mnt\/\.lag/);
    },
  );
});

describe("mount file readers on temp mounts", () => {
  let mount: TempMount | undefined;
  afterEach(() => mount?.cleanup());

  it("primary: no .primary, zero lag, position", () => {
    mount = createTempMount({ role: "primary" });
    expect(readPrimaryFile(mount.path)).toBeNull();
    expect(readLagFile(mount.path)).toEqual(0);
    expect(readPositionFile(mount.path, "db")).toEqual({ txid: 4n, checksum: "a2fc350afcb62d33" });
  });

  it("replica: .primary names the primary, lag in ms", () => {
    mount = createTempMount({ role: "replica", primary: "node-a", lagMs: 281 });
    expect(readPrimaryFile(mount.path)).toBe("node-a");
    expect(readLagFile(mount.path)).toEqual(281);
    mount.setPosition(0x1234n, "00000000000000ff");
    expect(readPositionFile(mount.path, "db")).toEqual({ txid: 0x1234n, checksum: "00000000000000ff" });
  });

  it("absent files read as null", () => {
    mount = createTempMount({ role: "primary" });
    mount.remove();
    expect(readPrimaryFile(mount.path)).toBeNull();
    expect(readLagFile(mount.path)).toBeNull();
    expect(readPositionFile(mount.path, "db")).toBeNull();
  });

  it("an unreadable file is an error naming it", () => {
    mount = createTempMount({ role: "primary" });
    mount.removeFile(".lag");
    mkdirSync(join(mount.path, ".lag")); // EISDIR even for root
    expect(() => readLagFile(mount!.path)).toThrow(new RegExp(`cannot read LiteFS file ${join(mount.path, ".lag")}`));
  });

  it("malformed content names the full path", () => {
    mount = createTempMount({ role: "primary" });
    mount.writeRaw("db-pos", "garbage\n");
    expect(() => readPositionFile(mount!.path, "db")).toThrow(join(mount.path, "db-pos"));
  });
});
