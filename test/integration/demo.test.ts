// `npm run demo` is the README's first command: it must keep working.
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { cliEnv } from "../support/cli.js";

const ROOT = join(import.meta.dirname, "..", "..");
const dir = mkdtempSync(join(tmpdir(), "litefs-demo-test-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function runDemo(): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ["--import", "tsx", join(ROOT, "examples", "demo", "main.ts")], {
    cwd: ROOT,
    env: cliEnv({ LITEFS_DEV_DATABASE: join(dir, "demo.sqlite3") }),
    encoding: "utf8",
    timeout: 30_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe("the demo", () => {
  it("migrates, writes and reads in dev mode, then shows a replica refusing a write", () => {
    const first = runDemo();
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toContain("migrations: 2 applied (primary)");
    expect(first.stdout).toContain("journal mode: wal");
    expect(first.stdout).toMatch(/#2 \[pinned\] litefs-node \(by Ada\)/);
    expect(first.stdout).toContain("role: replica, primary: node-a");
    expect(first.stdout).toContain("reads work: 2 notes");
    expect(first.stdout).toContain('the write was refused: NotPrimaryError: node "node-b" is a LiteFS replica');

    // A second run finds the migrations applied and keeps the earlier notes.
    const second = runDemo();
    expect(second.code, second.stderr).toBe(0);
    expect(second.stdout).toContain("migrations: 0 applied (primary)");
    expect(second.stdout).toContain("reads work: 4 notes");
  });
});
