// The CLI behaves like one program: "did you mean", one-line usage errors with a pointer to
// --help, one duration style, status --timeout honoured, status exits 0 in dev mode, an
// unreachable LiteFS API is one log line without a stack trace, migrate prints one line per event.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { runCli } from "../support/cli.js";
import { createTempMount, type TempMount } from "../support/litefs-mount.js";

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});

describe("litefs-node as one program", () => {
  it("suggests the command a typo meant, and a usage error is one line plus a pointer to --help", () => {
    const typo = runCli(["stauts"]);
    expect(typo.code).toBe(2);
    expect(typo.stderr).toBe(
      'litefs-node: unknown command "stauts"; did you mean "status"?\nRun "litefs-node --help" for usage.\n',
    );
    // A typo of a renamed command's old name points at its current name.
    expect(runCli(["prox"]).stderr).toContain('unknown command "prox"; did you mean "forward"?');

    const bad = runCli(["status", "--timeout", "soon"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toBe(
      'litefs-node status: --timeout takes a duration such as "1h", "10s", "1h30m" or "500ms" or a number of seconds greater than 0, got "soon"\n' +
        'Run "litefs-node status --help" for usage.\n',
    );
  });

  it("status: exits 0 in dev mode; with the LiteFS API down, --timeout=300ms is honoured and the log is one line without a stack", () => {
    const dev = runCli(["status", "--json"], { LITEFS_ENABLED: "false" });
    expect(dev.code, dev.stderr).toBe(0);
    expect(JSON.parse(dev.stdout)).toMatchObject({ election: "dev", role: "primary" });

    const mount: TempMount = createTempMount({ role: "primary" });
    cleanups.push(() => mount.cleanup());
    const started = Date.now();
    const down = runCli(["status", "--timeout=300ms"], {
      LITEFS_LOG_LEVEL: "info",
      LITEFS_NODE_ID: "node-a",
      LITEFS_PRIMARY_HOSTNAME: "node-a",
      LITEFS_MOUNT_PATH: mount.path,
      LITEFS_DATA_PATH: `${mount.path}-data`,
      LITEFS_DATABASE: mount.databaseName,
      LITEFS_HTTP_ADDR: "127.0.0.1:20298", // nothing listens here
    });
    expect(down.code, down.stderr).toBe(0);
    expect(down.stdout).toMatch(/^role\s+primary$/m);
    const lines = down.stderr.trim().split("\n");
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/LiteFS \/events: cannot connect to http:\/\/127\.0\.0\.1:20298\/events/);
    expect(lines[0]).not.toMatch(/stack|\s+at /);
    expect(Date.now() - started).toBeLessThan(15_000);
  });

  it("migrate prints one line per event", () => {
    const dir = mkdtempSync(join(tmpdir(), "cli-migrate-"));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const env = { LITEFS_ENABLED: "false", LITEFS_DEV_DATABASE: join(dir, "db.sqlite3"), LITEFS_LOG_LEVEL: "" };
    const first = runCli(["migrate", "--wait", "5m", "--drizzle", "examples/drizzle"], env);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toBe(
      "litefs-node migrate: primary: applied 2 drizzle migration(s): 0000_init, 0001_add_pinned\n",
    );
    expect(first.stderr).toBe("");
    const again = runCli(["migrate", "--drizzle", "examples/drizzle"], env);
    expect(again.stdout).toBe("litefs-node migrate: primary: drizzle migrations up to date\n");
    expect(again.stderr).toBe("");
  });
});
