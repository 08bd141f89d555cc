// The published shape: every `exports` entry resolves to built JS with types, and the bin runs.
// `npm test` builds first, so dist/ is current here.
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

const ROOT = join(import.meta.dirname, "..", "..");
const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as {
  exports: Record<string, { types?: string; import?: string } | string>;
  bin: Record<string, string>;
};

describe("package exports", () => {
  const entries = Object.entries(pkg.exports).filter(([, target]) => typeof target !== "string");

  it.each(entries)("%s points at built JS and declarations", (_name, target) => {
    const t = target as { types: string; import: string };
    expect(existsSync(join(ROOT, t.import)), t.import).toBe(true);
    expect(existsSync(join(ROOT, t.types)), t.types).toBe(true);
  });

  it("each entry imports by package name (self-reference) and exposes its API", () => {
    const script = `
      const root = await import("litefs-node");
      const drizzle = await import("litefs-node/drizzle");
      const prisma = await import("litefs-node/prisma");
      const migrations = await import("litefs-node/migrations-guard");
      console.log(JSON.stringify({
        root: [typeof root.loadSettings, typeof root.createNode, typeof root.isNotPrimaryError, typeof root.createForwardingProxy],
        drizzle: typeof drizzle.drizzle,
        prisma: typeof prisma.PrismaLiteFS,
        migrations: [typeof migrations.migrateDrizzle, typeof migrations.migratePrisma],
      }));`;
    const r = spawnSync(process.execPath, ["--input-type=module", "-e", script], { cwd: ROOT, encoding: "utf8", timeout: 20_000 });
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({
      root: ["function", "function", "function", "function"],
      drizzle: "function",
      prisma: "function",
      migrations: ["function", "function"],
    });
  });

  it("the built bin runs", () => {
    const bin = join(ROOT, pkg.bin["litefs-node"]!);
    expect(readFileSync(bin, "utf8").startsWith("#!/usr/bin/env node")).toBe(true);
    const r = spawnSync(process.execPath, [bin, "--version"], { cwd: ROOT, encoding: "utf8", timeout: 20_000 });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^litefs-node \d+\.\d+\.\d+/);
  });
});
