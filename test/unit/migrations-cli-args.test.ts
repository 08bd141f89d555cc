// `litefs-node migrate` argument parsing: modes, --wait's optional value, and usage errors that
// say what was wrong.
import { describe, expect, it } from "vitest";
import { DEFAULT_WAIT_SECONDS, parseMigrateArgs } from "../../bin/commands/migrate-args.js";

function usageOf(argv: string[]): string {
  const parsed = parseMigrateArgs(argv);
  if (parsed.kind !== "usage")
    throw new Error(`expected a usage error for ${JSON.stringify(argv)}, got ${JSON.stringify(parsed)}`);
  return parsed.message;
}

describe("parseMigrateArgs", () => {
  it("takes everything after -- as the command, untouched", () => {
    expect(parseMigrateArgs(["--", "npx", "drizzle-kit", "migrate", "--config", "x.ts", "--", "--help"])).toEqual({
      kind: "args",
      args: {
        waitSeconds: null,
        mode: {
          kind: "command",
          command: ["npx", "drizzle-kit", "migrate", "--config", "x.ts", "--", "--help"],
          migrations: [],
        },
      },
    });
  });

  it("--wait takes an optional duration (Go duration or seconds), as --wait=V or --wait V", () => {
    const wait = (argv: string[]) => {
      const parsed = parseMigrateArgs(argv);
      return parsed.kind === "args" ? parsed.args.waitSeconds : parsed;
    };
    expect(wait(["--wait", "--", "true"])).toBe(DEFAULT_WAIT_SECONDS);
    expect(wait(["--wait=30", "--", "true"])).toBe(30);
    expect(wait(["--wait=0.5", "--prisma", "p"])).toBe(0.5);
    expect(usageOf(["--wait=0", "--", "true"])).toMatch(/greater than 0/);
    expect(usageOf(["--wait=abc", "--", "true"])).toMatch(
      /--wait takes a duration such as .* or a number of seconds greater than 0, got "abc"/,
    );
    // One duration style everywhere: Go durations or plain seconds, "--wait VALUE" as well as "--wait=VALUE".
    expect(wait(["--wait", "300", "--", "true"])).toBe(300);
    expect(wait(["--wait", "5m", "--drizzle", "d"])).toBe(300);
    expect(wait(["--wait=1m30s", "--drizzle", "d"])).toBe(90);
    expect(wait(["--wait", "--drizzle", "d"])).toBe(120);
    expect(usageOf(["--wait=999999", "--", "true"])).toMatch(/at most 86400/);
  });

  it("reads the built-in appliers' folders, in both spellings", () => {
    expect(parseMigrateArgs(["--drizzle", "drizzle", "--table=my_migrations"])).toEqual({
      kind: "args",
      args: { waitSeconds: null, mode: { kind: "drizzle", folder: "drizzle", table: "my_migrations" } },
    });
    expect(parseMigrateArgs(["--prisma=prisma/migrations", "--wait=10"])).toEqual({
      kind: "args",
      args: { waitSeconds: 10, mode: { kind: "prisma", folder: "prisma/migrations" } },
    });
    expect(
      parseMigrateArgs(["--migrations", "drizzle", "--migrations=prisma/migrations", "--wait", "--", "sh", "-c", "x"]),
    ).toEqual({
      kind: "args",
      args: {
        waitSeconds: DEFAULT_WAIT_SECONDS,
        mode: { kind: "command", command: ["sh", "-c", "x"], migrations: ["drizzle", "prisma/migrations"] },
      },
    });
  });

  it("answers --help only before the command", () => {
    expect(parseMigrateArgs(["--help"])).toEqual({ kind: "help" });
    expect(parseMigrateArgs(["-h", "--drizzle", "x"])).toEqual({ kind: "help" });
    expect(parseMigrateArgs(["--", "tool", "--help"]).kind).toBe("args");
  });

  it("refuses ambiguous or incomplete invocations with a message naming the problem", () => {
    expect(usageOf([])).toMatch(/say what to run/);
    expect(usageOf(["--"])).toMatch(/the command after "--" is empty/);
    expect(usageOf(["--drizzle", "a", "--prisma", "b"])).toMatch(/use one of/);
    expect(usageOf(["--drizzle", "a", "--", "true"])).toMatch(/use one of/);
    expect(usageOf(["--drizzle"])).toMatch(/--drizzle needs a value/);
    expect(usageOf(["--drizzle", "--wait"])).toMatch(/--drizzle needs a value/);
    expect(usageOf(["--drizzle", "a", "--drizzle", "b"])).toMatch(/--drizzle given more than once/);
    expect(usageOf(["--prisma", "p", "--table", "t"])).toMatch(/--table goes with --drizzle only/);
    expect(usageOf(["--prisma", "p", "--migrations", "m"])).toMatch(/--migrations goes with a command/);
    expect(usageOf(["--force", "--", "true"])).toMatch(/unknown option "--force"/);
    expect(usageOf(["npx", "drizzle-kit", "migrate"])).toMatch(/put the migration command after "--"/);
  });
});
