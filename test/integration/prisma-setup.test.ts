// README "Prisma setup", run as written: its files (each code block whose first line names one)
// go into a fresh project next to a `"type": "module"` package.json, then its `sh` block runs
// there: `prisma generate` offline, `tsc`, `litefs-node migrate --prisma`, plain `node`.
// Needs the package built (dist/): `npm test` builds first.
import { spawnSync } from "node:child_process";
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import Database from "better-sqlite3";
import { afterAll, expect, it } from "vitest";

const ROOT = join(import.meta.dirname, "..", "..");
const CLI = join(ROOT, "dist", "bin", "litefs-node.js");

interface Block {
  readonly lang: string;
  readonly body: string;
}

/** The fenced code blocks of the README section `## <title>`, up to its first `###`/`##` heading. */
function sectionBlocks(title: string): Block[] {
  const readme = readFileSync(join(ROOT, "README.md"), "utf8");
  const start = readme.indexOf(`\n## ${title}\n`);
  if (start === -1) throw new Error(`README.md has no "## ${title}" section`);
  const rest = readme.slice(start + title.length + 5);
  const end = rest.search(/\n##+ /);
  const section = end === -1 ? rest : rest.slice(0, end);
  return [...section.matchAll(/```(\w*)\n([\s\S]*?)```/g)].map((m) => ({ lang: m[1] ?? "", body: m[2] ?? "" }));
}

/** A block's file name: its first line is a comment naming it (`// x`, `-- x`, `# x`). */
function fileOf(block: Block): string | null {
  const first = block.body.split("\n", 1)[0] ?? "";
  const match = /^(?:\/\/|--|#) ([\w./-]+\.(?:prisma|ts|json|sql|toml))$/.exec(first.trim());
  return match ? match[1]! : null;
}

/** node_modules as an install of litefs-node would leave it: the repo's packages, the package itself, its bin. */
function linkModules(project: string): void {
  const modules = join(project, "node_modules");
  const bin = join(modules, ".bin");
  mkdirSync(bin, { recursive: true });
  for (const entry of readdirSync(join(ROOT, "node_modules"))) {
    if (entry !== ".bin") symlinkSync(join(ROOT, "node_modules", entry), join(modules, entry));
  }
  symlinkSync(ROOT, join(modules, "litefs-node"));
  for (const tool of ["prisma", "tsc"]) symlinkSync(join(ROOT, "node_modules", ".bin", tool), join(bin, tool));
  chmodSync(CLI, 0o755);
  symlinkSync(CLI, join(bin, "litefs-node"));
}

const project = mkdtempSync(join(tmpdir(), "litefs-node-prisma-setup-"));
afterAll(() => rmSync(project, { recursive: true, force: true }));

it('README "Prisma setup" works as written: generate offline, tsc, migrate, plain node', () => {
  expect(existsSync(CLI), `${CLI} is missing: run npm run build (npm test does)`).toBe(true);
  const blocks = sectionBlocks("Prisma setup");
  const files = blocks.flatMap((block) => {
    const file = fileOf(block);
    return file === null ? [] : [[file, block.body] as const];
  });
  expect(files.map(([file]) => file).sort()).toEqual([
    "prisma.config.ts",
    "prisma/migrations/20250601000000_init/migration.sql",
    "prisma/migrations/migration_lock.toml",
    "prisma/schema.prisma",
    "src/main.ts",
    "tsconfig.json",
  ]);
  for (const [file, body] of files) {
    mkdirSync(dirname(join(project, file)), { recursive: true });
    writeFileSync(join(project, file), body);
  }
  writeFileSync(join(project, "package.json"), JSON.stringify({ name: "app", private: true, type: "module" }));
  linkModules(project);

  const script = blocks.filter((block) => block.lang === "sh");
  expect(script).toHaveLength(1);
  const env: NodeJS.ProcessEnv = {
    PATH: `${join(project, "node_modules", ".bin")}:${process.env.PATH ?? ""}`,
    HOME: project,
  };
  for (const name of ["TMPDIR", "npm_config_cache"]) if (process.env[name] !== undefined) env[name] = process.env[name];
  const run = (body: string) =>
    spawnSync("sh", ["-ec", body], { cwd: project, env, encoding: "utf8", timeout: 240_000 });

  const first = run(script[0]!.body);
  expect(first.status, `${first.stdout}\n${first.stderr}`).toBe(0);
  expect(first.stdout).toContain("applied 1 prisma migration(s): 20250601000000_init");
  expect(first.stdout).toContain("user 1; 1 user(s)");
  // Plain Node ran tsc's output: ESM with .js imports, no loader.
  expect(readFileSync(join(project, "dist", "main.js"), "utf8")).toContain('from "./generated/prisma/client.js"');

  // A restart (migrate, then the app; generate and tsc have nothing new to do): migrations are up
  // to date, the upsert finds its row.
  const restart = script[0]!.body.split("\n").filter((line) => /^(npx litefs-node|node) /.test(line));
  expect(restart).toHaveLength(2);
  const second = run(restart.join("\n"));
  expect(second.status, `${second.stdout}\n${second.stderr}`).toBe(0);
  expect(second.stdout).toContain("prisma migrations up to date");
  expect(second.stdout).toContain("user 1; 1 user(s)");
  const db = new Database(join(project, ".litefs-dev", "db.sqlite3"), { readonly: true });
  try {
    expect(db.pragma("journal_mode", { simple: true })).toBe("wal");
    expect(db.prepare(`SELECT migration_name FROM _prisma_migrations`).pluck().all()).toEqual(["20250601000000_init"]);
  } finally {
    db.close();
  }
}, 300_000);
