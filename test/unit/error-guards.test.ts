// One error convention (src/errors.ts): every error the package throws has a stable `code` and an
// isX() guard that answers true for that error, false for the others, and true for the same error
// made by another copy of the package, where `instanceof` answers false. The other copy is a second
// instance of the same modules (a `?copy` import: vite loads the file again as a separate module),
// and a plain object that carries only the brand or code, as an error from a copy would.
import { describe, expect, it } from "vitest";
import {
  isMigrationError,
  isMigrationTimeoutError,
  MigrationError,
  MigrationTimeoutError,
} from "../../migrations-guard/errors.js";
import type * as MigrationErrorsModule from "../../migrations-guard/errors.js";
import { ArgumentConversionError, isArgumentConversionError } from "../../src/driver/prisma/conversion.js";
import {
  ConfigError,
  isConfigError,
  isLiteFSError,
  isNotPrimaryError,
  isSplitBrainError,
  isStaleConnectionError,
  LiteFSError,
  NotPrimaryError,
  SplitBrainError,
  StaleConnectionError,
} from "../../src/errors.js";
import type * as ErrorsModule from "../../src/errors.js";
import { isUpstreamError, UpstreamError } from "../../src/forward/upstream.js";
import { handoff, isHandoffError } from "../../src/node/handoff.js";
import { isRaftCodecError, RaftCodecError } from "../../src/raft/bytes.js";
import {
  isNotLeaderError,
  isRaftConfigError,
  isRaftInvariantError,
  isRaftUsageError,
  NotLeaderError,
  RaftConfigError,
  RaftInvariantError,
  RaftUsageError,
} from "../../src/raft/errors.js";
import type * as RaftErrorsModule from "../../src/raft/errors.js";
import { isRaftUnavailableError, RaftUnavailableError } from "../../src/raft/runner.js";
import { isRaftStorageError, RaftStorageError } from "../../src/raft/storage-errors.js";
import { FrameTooLargeError, isFrameTooLargeError } from "../../src/raft/transport-frame.js";
import { closedPort } from "../support/migrations/cluster.js";

/** A second instance of a module: same file, separate classes (what another copy of the package has). */
async function copyOf<T>(path: string): Promise<T> {
  return (await import(/* @vite-ignore */ `${path}?copy`)) as T;
}

const BRAND = Symbol.for("litefs-node.error");

interface Case {
  readonly name: string;
  readonly make: () => unknown;
  readonly guard: (e: unknown) => boolean;
  readonly code: string;
}

const cases: readonly Case[] = [
  {
    name: "NotPrimaryError",
    make: () => new NotPrimaryError({ nodeId: "a", primary: "b", reason: "replica" }),
    guard: isNotPrimaryError,
    code: "LITEFS_NOT_PRIMARY",
  },
  {
    name: "SplitBrainError",
    make: () => new SplitBrainError({ nodeId: "a", primary: null, reason: "two primaries" }),
    guard: isSplitBrainError,
    code: "LITEFS_SPLIT_BRAIN",
  },
  {
    name: "StaleConnectionError",
    make: () => new StaleConnectionError("/litefs/db"),
    guard: isStaleConnectionError,
    code: "LITEFS_STALE_CONNECTION",
  },
  {
    name: "ConfigError",
    make: () => new ConfigError([{ setting: "nodeId", env: "LITEFS_NODE_ID", message: "must not be empty" }]),
    guard: isConfigError,
    code: "LITEFS_CONFIG",
  },
  {
    name: "MigrationError",
    make: () => new MigrationError("failed", "0001_init", "boom"),
    guard: isMigrationError,
    code: "LITEFS_MIGRATION",
  },
  {
    name: "NotLeaderError",
    make: () => new NotLeaderError("n1", "n2", "propose"),
    guard: isNotLeaderError,
    code: "RAFT_NOT_LEADER",
  },
  { name: "RaftConfigError", make: () => new RaftConfigError("x"), guard: isRaftConfigError, code: "RAFT_CONFIG" },
  { name: "RaftUsageError", make: () => new RaftUsageError("x"), guard: isRaftUsageError, code: "RAFT_USAGE" },
  {
    name: "RaftInvariantError",
    make: () => new RaftInvariantError("x"),
    guard: isRaftInvariantError,
    code: "RAFT_INVARIANT",
  },
  {
    name: "RaftStorageError",
    make: () => new RaftStorageError("corrupt", "x"),
    guard: isRaftStorageError,
    code: "RAFT_STORAGE",
  },
  {
    name: "RaftUnavailableError",
    make: () => new RaftUnavailableError("timeout", "x"),
    guard: isRaftUnavailableError,
    code: "RAFT_UNAVAILABLE",
  },
  { name: "RaftCodecError", make: () => new RaftCodecError("x"), guard: isRaftCodecError, code: "RAFT_CODEC" },
  {
    name: "FrameTooLargeError",
    make: () => new FrameTooLargeError(10, 5),
    guard: isFrameTooLargeError,
    code: "RAFT_FRAME_TOO_LARGE",
  },
  {
    name: "UpstreamError",
    make: () => new UpstreamError("broken", "x"),
    guard: isUpstreamError,
    code: "LITEFS_FORWARD_UPSTREAM",
  },
  {
    name: "ArgumentConversionError",
    make: () => new ArgumentConversionError("x"),
    guard: isArgumentConversionError,
    code: "LITEFS_ARGUMENT_CONVERSION",
  },
];

describe("every error has a stable code and a guard for it", () => {
  for (const c of cases) {
    it(`${c.name}: code ${c.code}; its guard says yes to it and no to the others`, () => {
      const error = c.make();
      expect((error as { code: unknown }).code).toBe(c.code);
      expect((error as Error).name).toBe(c.name);
      expect(c.guard(error)).toBe(true);
      for (const other of cases) if (other !== c) expect(other.guard(error), other.name).toBe(false);
      for (const notOurs of [null, undefined, "LITEFS_CONFIG", 42, new Error(c.code), { message: c.code }])
        expect(c.guard(notOurs)).toBe(false);
    });
    it(`${c.name}: the guard accepts the error as another copy of the package makes it (its code)`, () => {
      expect(c.guard({ name: c.name, message: "from another copy", code: c.code })).toBe(true);
    });
  }
});

describe("errors made by another instance of the modules (another copy of the package)", () => {
  it("src/errors.ts: instanceof says no, the guards say yes", async () => {
    const copy = await copyOf<typeof ErrorsModule>("../../src/errors.js");
    expect(copy.LiteFSError).not.toBe(LiteFSError);
    const notPrimary = new copy.NotPrimaryError({ nodeId: "a", primary: "b", reason: "replica" });
    expect(notPrimary instanceof NotPrimaryError).toBe(false);
    expect(isNotPrimaryError(notPrimary)).toBe(true);
    expect(isLiteFSError(notPrimary)).toBe(true);
    const config = new copy.ConfigError([{ setting: "x", env: null, message: "bad" }]);
    expect(config instanceof ConfigError).toBe(false);
    expect(isConfigError(config)).toBe(true);
    expect(isLiteFSError(config)).toBe(true);
    // And the other way round: the copy's guards know this copy's errors.
    expect(copy.isSplitBrainError(new SplitBrainError({ nodeId: null, primary: null, reason: "x" }))).toBe(true);
    expect(copy.isLiteFSError(new LiteFSError("LITEFS_API", "x"))).toBe(true);
  });

  it("migrations-guard: MigrationError and MigrationTimeoutError (a LITEFS_TIMEOUT like others: told by its brand)", async () => {
    const copy = await copyOf<typeof MigrationErrorsModule>("../../migrations-guard/errors.js");
    const failed = new copy.MigrationError("failed", "0001_init", "boom");
    expect(failed instanceof MigrationError).toBe(false);
    expect(isMigrationError(failed)).toBe(true);
    const timeout = new copy.MigrationTimeoutError({ missing: ["0002"], timeoutMs: 5, nodeId: "a", lastProblem: null });
    expect(timeout instanceof MigrationTimeoutError).toBe(false);
    expect(isMigrationTimeoutError(timeout)).toBe(true);
    expect(timeout.code).toBe("LITEFS_TIMEOUT");
    // Another LITEFS_TIMEOUT is not a migration timeout.
    expect(isMigrationTimeoutError(new LiteFSError("LITEFS_TIMEOUT", "LiteFS did not answer"))).toBe(false);
    expect(isMigrationTimeoutError(new MigrationError("failed", null, "x"))).toBe(false);
  });

  it("migrations-guard: a plain object with the brand is a MigrationTimeoutError; the code alone is not", () => {
    const branded = { [BRAND]: "MigrationTimeoutError", code: "LITEFS_TIMEOUT", missing: [], timeoutMs: 1 };
    expect(isMigrationTimeoutError(branded)).toBe(true);
    expect(isLiteFSError(branded)).toBe(true);
    expect(isMigrationTimeoutError({ code: "LITEFS_TIMEOUT", missing: [] })).toBe(false);
    expect(isLiteFSError({ code: "LITEFS_TIMEOUT" })).toBe(false);
  });

  it("raft: NotLeaderError from another instance of the module", async () => {
    const copy = await copyOf<typeof RaftErrorsModule>("../../src/raft/errors.js");
    const error = new copy.NotLeaderError("n1", null, "read");
    expect(error instanceof NotLeaderError).toBe(false);
    expect(isNotLeaderError(error)).toBe(true);
  });

  it("the brand is not enumerable: JSON and Object.assign of an error show only its fields", () => {
    const error = new NotPrimaryError({ nodeId: "a", primary: "b", reason: "replica" });
    expect(Object.getOwnPropertySymbols(error)).toEqual([BRAND]);
    expect(Object.getOwnPropertySymbols(Object.assign({}, error))).toEqual([]);
    expect(JSON.parse(JSON.stringify(error))).toEqual({
      code: "LITEFS_NOT_PRIMARY",
      name: "NotPrimaryError",
      nodeId: "a",
      primary: "b",
      reason: "replica",
    });
  });
});

describe("HandoffError (thrown by handoff(), not exported as a class)", () => {
  it("has code LITEFS_HANDOFF and isHandoffError says so", async () => {
    // No LiteFS API answers on a closed port: handoff cannot ask whether this node is primary.
    const apiUrl = `http://127.0.0.1:${await closedPort()}`;
    const error = await handoff({
      mountPath: "/nonexistent",
      databaseName: "db",
      apiUrl,
      targets: [{ node: "b", apiUrl }],
    }).catch((e: unknown) => e);
    expect(isHandoffError(error)).toBe(true);
    expect((error as LiteFSError).code).toBe("LITEFS_HANDOFF");
    expect(isLiteFSError(error)).toBe(true);
    expect(isHandoffError(new LiteFSError("LITEFS_API", "x"))).toBe(false);
  });
});
