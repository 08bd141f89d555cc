// `litefs-node run` around LiteFS's life: LiteFS dying on its own (exit 99, SIGKILL) takes the app
// with it (TERM, then KILL after --stop-grace) and run exits with LiteFS's code; the config file is
// written 0600, with a migration step as LiteFS's exec list, and never over a hand-written file.
// A fake `litefs` (shell script) starts an "app" the way LiteFS's exec does: same process group.
import type { ChildProcess } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse } from "yaml";
import { afterEach, describe, expect, it } from "vitest";
import { processAlive, runEnv, spawnRun, waitFor, within, writeScript } from "../support/run/spawn-run.js";

let root = "";
const children = new Set<ChildProcess>();
const appPids: number[] = [];
afterEach(() => {
  for (const c of children) c.kill("SIGKILL");
  children.clear();
  for (const pid of appPids.splice(0)) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // already gone: what the tests want
    }
  }
  if (root) rmSync(root, { recursive: true, force: true });
});

function staticNode(litefsBin: string): NodeJS.ProcessEnv {
  return runEnv({
    LITEFS_BIN: litefsBin,
    LITEFS_NODE_ID: "node-a",
    LITEFS_PRIMARY_HOSTNAME: "node-a",
    LITEFS_MOUNT_PATH: join(root, "mnt"),
    LITEFS_DATA_PATH: join(root, "data"),
    LITEFS_LOG_LEVEL: "info",
  });
}

/** A fake litefs that starts `app` in the background (LiteFS's exec: same process group), then runs `then`. */
function fakeLitefs(app: string, then: string): string {
  return writeScript(
    join(root, "litefs"),
    `sh -c '${app}' &\necho $! > "${join(root, "app.pid")}"\nsleep 0.5\n${then}`,
  );
}

async function appPid(): Promise<number> {
  const pid = await waitFor(
    () => {
      try {
        return Number(readFileSync(join(root, "app.pid"), "utf8").trim()) || null;
      } catch {
        return null;
      }
    },
    10_000,
    "the app's pid",
  );
  appPids.push(pid);
  return pid;
}

describe("litefs-node run when LiteFS dies on its own", () => {
  it("exit 99: the app that ignores SIGTERM is killed after --stop-grace; run exits 99", async () => {
    root = mkdtempSync(join(tmpdir(), "run-die-"));
    const bin = fakeLitefs(`trap "" TERM; while :; do sleep 0.05; done`, "exit 99");
    const started = Date.now();
    const run = spawnRun(["--stop-grace", "1s", "--", "node", "server.js"], staticNode(bin), children);
    const pid = await appPid();
    expect(await within(run.exited, 20_000, "run exit")).toBe(99);
    expect(processAlive(pid)).toBe(false);
    expect(run.out()).toMatch(/ignored SIGTERM: killed it/);
    // LiteFS died after 0.5 s; the grace is 1 s: KILL came after it, not at once.
    expect(Date.now() - started).toBeGreaterThan(1400);
  }, 30_000);

  it("SIGKILL: the app gets SIGTERM and stops; run exits 137", async () => {
    root = mkdtempSync(join(tmpdir(), "run-die-"));
    const bin = fakeLitefs(`while :; do sleep 0.05; done`, "kill -9 $$");
    const run = spawnRun(["--stop-grace=5s", "--", "node", "server.js"], staticNode(bin), children);
    const pid = await appPid();
    expect(await within(run.exited, 20_000, "run exit")).toBe(137);
    expect(processAlive(pid)).toBe(false);
    expect(run.out()).toMatch(/stopped it with SIGTERM/);
  }, 30_000);
});

describe("litefs-node run's config file", () => {
  it("is written 0600 with the migration step before the app, and never over a hand-written file", async () => {
    root = mkdtempSync(join(tmpdir(), "run-cfg-"));
    const seen = join(root, "seen.yml");
    const bin = writeScript(join(root, "litefs"), `cp "$3" "${seen}"\nexit 0`);
    const env = staticNode(bin);
    const run = spawnRun(
      ["--migrate", "litefs-node migrate --wait 5m --drizzle ./drizzle", "--", "node", "server.js"],
      env,
      children,
    );
    expect(await within(run.exited, 20_000, "run exit"), run.out()).toBe(0);
    const configPath = join(root, "data", "litefs.yml");
    expect(statSync(configPath).mode & 0o777).toBe(0o600);
    expect(parse(readFileSync(seen, "utf8"))).toMatchObject({
      exec: [
        { cmd: "litefs-node migrate --wait 5m --drizzle ./drizzle", "if-candidate": true },
        { cmd: "node server.js" },
      ],
    });

    // A second start rewrites its own file...
    const again = spawnRun(["--", "node", "server.js"], env, children);
    expect(await within(again.exited, 20_000, "second run exit"), again.out()).toBe(0);
    expect(parse(readFileSync(configPath, "utf8"))).toMatchObject({ exec: "node server.js" });

    // ...but not a file someone wrote by hand.
    const mine = join(root, "mine.yml");
    mkdirSync(root, { recursive: true });
    writeFileSync(mine, 'fuse:\n  dir: "/litefs"\n');
    const refused = spawnRun(["--config", mine, "--", "node", "server.js"], env, children);
    expect(await within(refused.exited, 20_000, "refused run exit")).toBe(1);
    expect(refused.out()).toMatch(/mine\.yml exists and was not generated by litefs-node.*refusing to overwrite it/);
    expect(readFileSync(mine, "utf8")).toBe('fuse:\n  dir: "/litefs"\n');
  }, 60_000);
});
