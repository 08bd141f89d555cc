// The README's install and quick starts, run as written against the packed package.
//
// 1. `npm pack` the package (dist/ is current: `npm test` builds first) and check the tarball.
// 2. Install the tarball into a scratch directory with npm (offline-tolerant: --prefer-offline;
//    --ignore-scripts and --legacy-peer-deps keep it fast), then link the packages the README's
//    install commands name from this repository's node_modules (drizzle-orm, drizzle-kit, tsx,
//    prisma, @prisma/client, and better-sqlite3's compiled addon), so nothing is downloaded.
// 3. Run the README's quick starts in scratch projects that share that node_modules: an ESM one
//    and a CommonJS one for Drizzle, an ESM one for Prisma; then typecheck the entries the way
//    older TypeScript setups resolve them.
//
// README convention: a fenced block followed by an HTML comment
//   <!-- readme-test: <project...> file <path> -->   writes the block to <path> in each project;
//   <!-- readme-test: <project...> run -->           runs each line of the sh block, comments
//                                                    stripped, with bash in the project directory;
//   <!-- readme-test: install <name> -->             the install commands: every package they
//                                                    name must be one this test provides.
// One command cannot run here as written: `prisma migrate diff` needs Prisma's schema-engine
// binary, which is downloaded from binaries.prisma.sh (no network here). STAND_INS names it
// exactly and supplies the SQL it prints for the quick start's schema.
import { spawnSync, type SpawnSyncReturns } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { expectPackedFiles, expectSelfContainedSourceMaps } from "../support/package-tarball.js";

const ROOT = join(import.meta.dirname, "..", "..");
const README = readFileSync(join(ROOT, "README.md"), "utf8");

// Packages the README's install commands name, provided from this repository's node_modules.
const LINKED = ["drizzle-orm", "drizzle-kit", "tsx", "prisma", "@prisma/client", "typescript"] as const;
const PROJECTS = { "drizzle-esm": "module", "drizzle-cjs": "commonjs", "prisma-esm": "module" } as const;
type Project = keyof typeof PROJECTS;

const STAND_INS: Record<string, (cwd: string) => void> = {
  "npx prisma migrate diff --from-empty --to-schema prisma/schema.prisma --script > prisma/migrations/0_init/migration.sql":
    (cwd) =>
      writeFileSync(
        join(cwd, "prisma/migrations/0_init/migration.sql"),
        '-- CreateTable\nCREATE TABLE "User" (\n    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,\n    "email" TEXT NOT NULL\n);\n\n' +
          '-- CreateIndex\nCREATE UNIQUE INDEX "User_email_key" ON "User"("email");\n',
      ),
};

interface ReadmeStep {
  readonly projects: string[];
  readonly action: "file" | "run" | "install";
  readonly path: string | null;
  readonly body: string;
}

function readmeSteps(): ReadmeStep[] {
  const steps: ReadmeStep[] = [];
  for (const m of README.matchAll(/```[^\n]*\n((?:(?!```)[\s\S])*)```\n<!-- readme-test: ([^>]*?) -->/g)) {
    const words = m[2]!.trim().split(/\s+/);
    if (words[0] === "install") {
      steps.push({ projects: [], action: "install", path: null, body: m[1]! });
      continue;
    }
    const at = words.findIndex((w) => w === "file" || w === "run");
    expect(at, `readme-test comment "${m[2]}"`).toBeGreaterThan(0);
    steps.push({
      projects: words.slice(0, at),
      action: words[at] as "file" | "run",
      path: words[at + 1] ?? null,
      body: m[1]!,
    });
  }
  return steps;
}

let scratch: string;
let tarballFiles: string[];
let fakeEngine: string;

function sh(command: string, cwd: string, timeout = 120_000): SpawnSyncReturns<string> {
  // A fresh shell: no LITEFS_* settings and no NODE_ENV (vitest sets "test"), so dev mode.
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith("LITEFS_") && k !== "NODE_ENV") env[k] = v;
  // `prisma generate` insists on finding the schema engine even though it does not use it.
  env["PRISMA_SCHEMA_ENGINE_BINARY"] = fakeEngine;
  env["PRISMA_HIDE_UPDATE_MESSAGE"] = "1";
  env["CHECKPOINT_DISABLE"] = "1";
  env["npm_config_update_notifier"] = "false";
  return spawnSync("bash", ["-c", command], { cwd, env, encoding: "utf8", timeout });
}

function expectOk(r: SpawnSyncReturns<string>, what: string): string {
  expect(r.status, `${what}\n${r.stdout}\n${r.stderr}${r.error ? `\n${r.error.message}` : ""}`).toBe(0);
  return r.stdout;
}

function link(target: string, path: string): void {
  rmSync(path, { recursive: true, force: true });
  mkdirSync(dirname(path), { recursive: true });
  symlinkSync(target, path);
}

/** node_modules/.bin entries for a linked package, as npm would have made them. */
function linkBins(modules: string, name: string): void {
  const pkg = JSON.parse(readFileSync(join(modules, name, "package.json"), "utf8")) as {
    bin?: string | Record<string, string>;
  };
  const bins = typeof pkg.bin === "string" ? { [name.split("/").pop()!]: pkg.bin } : (pkg.bin ?? {});
  for (const [bin, file] of Object.entries(bins)) link(join("..", name, file), join(modules, ".bin", bin));
}

beforeAll(() => {
  scratch = mkdtempSync(join(tmpdir(), "litefs-node-readme-"));
  fakeEngine = join(scratch, "schema-engine-stand-in");
  writeFileSync(fakeEngine, "#!/bin/sh\nexit 0\n", { mode: 0o755 });

  const packed = JSON.parse(
    expectOk(sh(`npm pack --ignore-scripts --json --pack-destination ${JSON.stringify(scratch)}`, ROOT), "npm pack"),
  ) as {
    filename: string;
    files: { path: string }[];
  }[];
  tarballFiles = packed[0]!.files.map((f) => f.path);
  const tarball = join(scratch, packed[0]!.filename);

  writeFileSync(join(scratch, "package.json"), JSON.stringify({ name: "readme-scratch", private: true }));
  expectOk(
    sh(
      `npm install --prefer-offline --no-audit --no-fund --ignore-scripts --legacy-peer-deps ${JSON.stringify(tarball)}`,
      scratch,
      240_000,
    ),
    "npm install <tarball>",
  );
  const modules = join(scratch, "node_modules");
  // --ignore-scripts skipped better-sqlite3's native build: use this repository's compiled copy.
  link(join(ROOT, "node_modules", "better-sqlite3"), join(modules, "better-sqlite3"));
  for (const name of LINKED) {
    link(join(ROOT, "node_modules", name), join(modules, name));
    linkBins(modules, name);
  }
  for (const [project, type] of Object.entries(PROJECTS)) {
    const dir = join(scratch, project);
    mkdirSync(dir);
    writeFileSync(join(dir, "package.json"), JSON.stringify({ name: project, private: true, type }));
    symlinkSync(modules, join(dir, "node_modules"));
  }
}, 300_000);

afterAll(() => {
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

describe("the packed package", () => {
  it("ships dist with types, README and LICENSE, and nothing else", () => {
    expectPackedFiles(tarballFiles, ROOT, join(scratch, "node_modules", "litefs-node"));
  });

  it("ships source maps only with their sources inside (sourcesContent)", () => {
    expectSelfContainedSourceMaps(tarballFiles, join(scratch, "node_modules", "litefs-node"));
  });
});

describe("the README, run as written", () => {
  const steps = readmeSteps();

  it("has install commands naming only packages this test provides", () => {
    const installs = steps.filter((s) => s.action === "install");
    expect(installs.length).toBeGreaterThanOrEqual(2);
    for (const step of installs) {
      for (const line of step.body
        .split("\n")
        .map((l) => l.replace(/#.*/, "").trim())
        .filter((l) => l !== "")) {
        const words = line.split(/\s+/);
        expect(words.slice(0, 2), line).toEqual(["npm", "install"]);
        const names = words.slice(2).filter((w) => !w.startsWith("-"));
        for (const name of names) expect(["litefs-node", ...LINKED], line).toContain(name);
      }
    }
  });

  it.each(Object.keys(PROJECTS) as Project[])(
    "quick start %s",
    (project) => {
      const cwd = join(scratch, project);
      const mine = steps.filter((s) => s.projects.includes(project));
      expect(
        mine.some((s) => s.action === "run"),
        project,
      ).toBe(true);
      let output = "";
      for (const step of mine) {
        if (step.action === "file") {
          mkdirSync(dirname(join(cwd, step.path!)), { recursive: true });
          writeFileSync(join(cwd, step.path!), step.body);
          continue;
        }
        for (const line of step.body.split("\n")) {
          const command = line.replace(/\s+#.*$/, "").trim();
          if (command === "" || command.startsWith("#")) continue;
          const standIn = STAND_INS[command];
          if (standIn) standIn(cwd);
          else output += expectOk(sh(command, cwd), `${project}: ${command}`);
        }
      }
      const expected: Record<Project, RegExp> = {
        "drizzle-esm": /^2 notes; role: primary$/m,
        "drizzle-cjs": /^1 notes$/m,
        "prisma-esm": /^1 users$/m,
      };
      expect(output).toMatch(expected[project]);
      // Dev mode wrote the local file the README names, nowhere else.
      expect(existsSync(join(cwd, ".litefs-dev", "db.sqlite3"))).toBe(true);
    },
    240_000,
  );
});

// Consumers on older TypeScript resolution, in a CommonJS project: `moduleResolution: node10`
// finds the subpaths through typesVersions, `module: nodenext` (TypeScript >= 5.8) lets a CommonJS
// file require the ESM entries, and with skipLibCheck: false the declarations resolve their
// better-sqlite3 types (@types/better-sqlite3 is a dependency). esModuleInterop is on, as
// `tsc --init` sets it (zod's and pino's own declarations need it under node10).
describe("TypeScript consumers", () => {
  const ENTRIES = `import { loadSettings, GuardedDatabase, type LiteFSSettings } from "litefs-node";
import { drizzle, type LiteFSDrizzleDatabase } from "litefs-node/drizzle";
import { migrate } from "litefs-node/drizzle/migrator";
import { PrismaLiteFS } from "litefs-node/prisma";
import { migrateDrizzle, type MigrationResult } from "litefs-node/migrations-guard";
export const settings: LiteFSSettings = loadSettings({ enabled: false });
export const db: LiteFSDrizzleDatabase = drizzle("app.db");
export const applied: Promise<MigrationResult> = migrate(db, { migrationsFolder: "drizzle" });
export const other: Promise<MigrationResult> = migrateDrizzle({ migrationsFolder: "drizzle" });
export const adapter = new PrismaLiteFS();
export const changes: number = (db.$client as GuardedDatabase).prepare("SELECT 1").run().changes;
`;
  // The library's declarations without drizzle-orm's: drizzle-orm 0.45's own .d.ts files do not
  // pass skipLibCheck: false (errors in its gel-core and mysql-core), with or without litefs-node.
  const LIB_CHECK = `import { GuardedDatabase, loadSettings } from "litefs-node";
import { PrismaLiteFS } from "litefs-node/prisma";
export const open = (file: string) => new GuardedDatabase(file, { gate: { assertWritable() {} } as never });
export const settings = loadSettings({ enabled: false });
export const adapter = new PrismaLiteFS();
`;
  const compilerOptions = (extra: object) => ({
    target: "ES2022",
    strict: true,
    esModuleInterop: true,
    noEmit: true,
    types: ["node"],
    ...extra,
  });

  beforeAll(() => {
    const dir = join(scratch, "types-cjs");
    mkdirSync(dir);
    writeFileSync(join(dir, "package.json"), JSON.stringify({ name: "types-cjs", private: true, type: "commonjs" }));
    symlinkSync(join(scratch, "node_modules"), join(dir, "node_modules"));
    writeFileSync(join(dir, "entries.ts"), ENTRIES);
    writeFileSync(join(dir, "lib-check.ts"), LIB_CHECK);
    const config = (files: string[], extra: object) =>
      JSON.stringify({ compilerOptions: compilerOptions(extra), files });
    writeFileSync(
      join(dir, "tsconfig.node10.json"),
      config(["entries.ts"], { module: "commonjs", moduleResolution: "node10", skipLibCheck: true }),
    );
    writeFileSync(
      join(dir, "tsconfig.nodenext.json"),
      config(["entries.ts"], { module: "nodenext", moduleResolution: "nodenext", skipLibCheck: true }),
    );
    writeFileSync(
      join(dir, "tsconfig.libcheck.json"),
      config(["lib-check.ts"], { module: "commonjs", moduleResolution: "node10", skipLibCheck: false }),
    );
  });

  it.each(["node10", "nodenext", "libcheck"])(
    "tsc -p tsconfig.%s.json",
    (name) => {
      expectOk(sh(`npx tsc -p tsconfig.${name}.json`, join(scratch, "types-cjs"), 180_000), `tsc ${name}`);
    },
    200_000,
  );
});
