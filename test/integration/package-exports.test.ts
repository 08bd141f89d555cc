// The published shape: every `exports` entry resolves to built JS with types, and the bin runs.
// `npm test` builds first, so dist/ is current here.
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

const ROOT = join(import.meta.dirname, "..", "..");
const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as {
  exports: Record<string, { types?: string; default?: string } | string>;
  typesVersions: Record<string, Record<string, string[]>>;
  bin: Record<string, string>;
};

describe("package exports", () => {
  const entries = Object.entries(pkg.exports).filter(([, target]) => typeof target !== "string");

  it.each(entries)("%s points at built JS and declarations", (_name, target) => {
    const t = target as { types: string; default: string };
    expect(existsSync(join(ROOT, t.default)), t.default).toBe(true);
    expect(existsSync(join(ROOT, t.types)), t.types).toBe(true);
  });

  it("typesVersions maps every subpath to its entry's declarations (moduleResolution node10)", () => {
    const mapped = pkg.typesVersions["*"] ?? {};
    for (const [name, target] of entries) {
      if (name === ".") continue;
      expect(mapped[name.slice(2)], name).toEqual([(target as { types: string }).types]);
    }
    expect(Object.keys(mapped).length).toBe(entries.length - 1);
  });

  it("each entry imports by package name (self-reference) and exposes its API", () => {
    const script = `
      const root = await import("litefs-node");
      const drizzle = await import("litefs-node/drizzle");
      const migrator = await import("litefs-node/drizzle/migrator");
      const prisma = await import("litefs-node/prisma");
      const migrations = await import("litefs-node/migrations-guard");
      const litefsJs = await import("litefs-node/litefs-js");
      console.log(JSON.stringify({
        root: [typeof root.loadSettings, typeof root.createNode, typeof root.isNotPrimaryError, typeof root.createForwardingProxy],
        drizzle: [typeof drizzle.drizzle, typeof migrator.migrate],
        prisma: typeof prisma.PrismaLiteFS,
        migrations: [typeof migrations.migrateDrizzle, typeof migrations.migratePrisma],
        litefsJs: [typeof litefsJs.getInstanceInfo, typeof litefsJs.ensurePrimary, typeof litefsJs.handleTransactionalConsistency],
      }));`;
    const r = spawnSync(process.execPath, ["--input-type=module", "-e", script], {
      cwd: ROOT,
      encoding: "utf8",
      timeout: 20_000,
    });
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({
      root: ["function", "function", "function", "function"],
      drizzle: ["function", "function"],
      prisma: "function",
      migrations: ["function", "function"],
      litefsJs: ["function", "function", "function"],
    });
  });

  it("each entry loads with require() (Node's require(esm): one module instance for import and require)", () => {
    const script = `
      const names = ["litefs-node", "litefs-node/drizzle", "litefs-node/drizzle/migrator", "litefs-node/prisma", "litefs-node/migrations-guard", "litefs-node/litefs-js"];
      const loaded = names.map((name) => Object.keys(require(name)).length > 0);
      import("litefs-node").then((esm) => console.log(JSON.stringify({ loaded, same: esm.loadSettings === require("litefs-node").loadSettings })));`;
    const r = spawnSync(process.execPath, ["--input-type=commonjs", "-e", script], {
      cwd: ROOT,
      encoding: "utf8",
      timeout: 20_000,
    });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).not.toContain("ExperimentalWarning");
    expect(JSON.parse(r.stdout)).toEqual({ loaded: [true, true, true, true, true, true], same: true });
  });

  it("the built bin runs", () => {
    const bin = join(ROOT, pkg.bin["litefs-node"]!);
    expect(readFileSync(bin, "utf8").startsWith("#!/usr/bin/env node")).toBe(true);
    const r = spawnSync(process.execPath, [bin, "--version"], { cwd: ROOT, encoding: "utf8", timeout: 20_000 });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^litefs-node \d+\.\d+\.\d+/);
  });

  it("the package that wants Node 22 (npm ci's EBADENGINE warning) is a dev-only dependency", () => {
    const lock = JSON.parse(readFileSync(join(ROOT, "package-lock.json"), "utf8")) as {
      packages: Record<string, { dev?: boolean; engines?: { node?: string } }>;
    };
    const wantsNode22 = Object.entries(lock.packages).filter(([, p]) => /^>=\s*2[2-9]/.test(p.engines?.node ?? ""));
    expect(wantsNode22.map(([path]) => path)).toContain("node_modules/@prisma/streams-local");
    for (const [path, p] of wantsNode22) expect(p.dev, path).toBe(true);
  });
});
