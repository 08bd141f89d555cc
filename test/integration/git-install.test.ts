// `npm install git+<url>` as far as it can be reproduced in seconds, offline: npm clones the
// repository (no dist/, which is not committed), installs its dependencies, runs `npm pack` (whose
// `prepare` script builds dist/) and installs that tarball. Here: a fresh `git clone` of this
// checkout's HEAD (committed files only, as npm would get them), this repository's node_modules
// linked in place of the dependency install, then `npm pack` with its scripts, and the same checks
// as the tarball of readme-quickstart.test.ts. The real thing, with every dependency installed and
// better-sqlite3 compiled, is `npm run test:git-install` (minutes to an hour; not part of npm test).
import { spawnSync, type SpawnSyncReturns } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { expectPackedFiles, expectSelfContainedSourceMaps } from "../support/package-tarball.js";

const ROOT = join(import.meta.dirname, "..", "..");
const scratch = mkdtempSync(join(tmpdir(), "litefs-node-git-"));

afterAll(() => rmSync(scratch, { recursive: true, force: true }));

function run(command: string, args: string[], cwd: string, timeout = 60_000): string {
  const r: SpawnSyncReturns<string> = spawnSync(command, args, {
    cwd,
    encoding: "utf8",
    timeout,
    env: { ...process.env, npm_config_update_notifier: "false", npm_config_fund: "false" },
  });
  expect(
    r.status,
    `${command} ${args.join(" ")}\n${r.stdout}\n${r.stderr}${r.error ? `\n${r.error.message}` : ""}`,
  ).toBe(0);
  return r.stdout;
}

describe("a git install", () => {
  it.skipIf(!existsSync(join(ROOT, ".git")))(
    "builds dist/ with types through `prepare` in a fresh clone and packs a working package",
    () => {
      const clone = join(scratch, "clone");
      run("git", ["clone", "--quiet", "--depth", "1", `file://${ROOT}`, clone], scratch);
      expect(existsSync(join(clone, "dist")), "dist/ must not be committed: a git install has to build it").toBe(false);
      symlinkSync(join(ROOT, "node_modules"), join(clone, "node_modules"));

      // Without --ignore-scripts: npm pack runs `prepare`, as npm does for a git dependency.
      const packed = JSON.parse(run("npm", ["pack", "--json", "--pack-destination", scratch], clone, 240_000)) as {
        filename: string;
        files: { path: string }[];
      }[];
      const files = packed[0]!.files.map((f) => f.path);
      expect(files).toContain("dist/src/index.d.ts");

      const unpacked = join(scratch, "unpacked");
      mkdirSync(unpacked);
      run("tar", ["-xzf", join(scratch, packed[0]!.filename), "-C", unpacked], scratch);
      const installed = join(unpacked, "package");
      expectPackedFiles(files, clone, installed);
      expectSelfContainedSourceMaps(files, installed);

      // The built package loads, and its CLI starts (dependencies from this repository).
      symlinkSync(join(ROOT, "node_modules"), join(installed, "node_modules"));
      const loaded = run(
        process.execPath,
        [
          "--input-type=module",
          "-e",
          `const m = await import("./dist/src/index.js"); console.log(typeof m.loadSettings);`,
        ],
        installed,
      );
      expect(loaded.trim()).toBe("function");
      expect(run(process.execPath, ["dist/bin/litefs-node.js", "--version"], installed).trim()).toMatch(
        /^litefs-node \d+\.\d+\.\d+/,
      );
    },
    300_000,
  );
});
