// The CLI as a user runs it: real processes, temp mount dirs written like LiteFS's.
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { runCli, runCliAsync } from "../support/cli.js";
import { startEventsServer } from "../support/events-server.js";
import { createTempMount, type TempMount } from "../support/litefs-mount.js";
import { writeLeaderLeaseState } from "../support/lease/published-state-fixture.js";

const mounts: TempMount[] = [];
afterEach(() => {
  for (const m of mounts.splice(0)) m.cleanup();
});

function staticEnv(mount: TempMount, nodeId: string): Record<string, string> {
  return {
    LITEFS_MOUNT_PATH: mount.path,
    LITEFS_DATA_PATH: `${mount.path}-data`,
    LITEFS_DATABASE: mount.databaseName,
    LITEFS_NODE_ID: nodeId,
    LITEFS_PRIMARY_HOSTNAME: "node-a",
    // Nothing listens here: the node falls back to the mount files at once.
    LITEFS_HTTP_ADDR: "127.0.0.1:20299",
  };
}

/** node-b's environment on a mount where it replicates node-a, at TXID 0x2a, with `.lag` holding `lagMs`. */
function replicaEnv(lagMs: number): Record<string, string> {
  const mount = createTempMount({ role: "replica", primary: "node-a", lagMs });
  mounts.push(mount);
  mount.setPosition(0x2an, "a2fc350afcb62d33");
  return staticEnv(mount, "node-b");
}

describe("litefs-node CLI", () => {
  it("prints usage and version", () => {
    const help = runCli(["--help"]);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain("Usage: litefs-node <command>");
    const version = runCli(["--version"]);
    expect(version.code).toBe(0);
    const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version: string };
    expect(version.stdout.trim()).toBe(`litefs-node ${pkg.version}`);
  });

  it("rejects an unknown command and unknown options with exit code 2", () => {
    const r = runCli(["frobnicate"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('unknown command "frobnicate"');
    const bad = runCli(["config", "--nope"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--nope/);
  });

  it("has --help on every command", () => {
    for (const command of ["config", "status", "check"]) {
      const r = runCli([command, "--help"]);
      expect(r.code, command).toBe(0);
      expect(r.stdout, command).toContain(`Usage: litefs-node ${command}`);
    }
  });

  it("config renders litefs.yml to stdout and to --out", () => {
    const mount = createTempMount({ role: "primary" });
    mounts.push(mount);
    const env = staticEnv(mount, "node-b");
    const r = runCli(["config"], env);
    expect(r.code, r.stderr).toBe(0);
    const doc = parse(r.stdout) as {
      lease: { type: string; hostname: string; candidate: boolean };
      fuse: { dir: string };
    };
    expect(doc.lease).toMatchObject({ type: "static", hostname: "node-a", candidate: false });
    expect(doc.fuse.dir).toBe(mount.path);

    const dir = mkdtempSync(join(tmpdir(), "litefs-cli-"));
    try {
      const out = join(dir, "litefs.yml");
      const w = runCli(["config", "--out", out], env);
      expect(w.code, w.stderr).toBe(0);
      expect(readFileSync(out, "utf8")).toBe(r.stdout);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("config reports every settings problem with env names and exits non-zero", () => {
    const r = runCli(["config"], { LITEFS_MOUNT_PATH: "relative/mnt", LITEFS_LEADER_ELECTION: "paxos" });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("LITEFS_MOUNT_PATH");
    expect(r.stderr).toContain("LITEFS_LEADER_ELECTION");
    expect(r.stderr).toContain("LITEFS_NODE_ID");
  });

  it("status --json reports a replica and its primary from the mount files", () => {
    const r = runCli(["status", "--json"], replicaEnv(281));
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({
      nodeId: "node-b",
      role: "replica",
      primary: "node-a",
      txid: "000000000000002a",
      lagMs: 281,
      election: "static",
      splitBrain: false,
      database: "db",
      raft: null,
    });
  });

  it("status --json prints a never-synced replica's lag as /health does (LiteFS's 2147483647), the text says so", () => {
    const env = replicaEnv(2147483647);
    const json = runCli(["status", "--json"], env);
    expect(json.code, json.stderr).toBe(0);
    expect(JSON.parse(json.stdout)).toMatchObject({ role: "replica", lagMs: 2147483647 });
    const text = runCli(["status"], env);
    expect(text.stdout).toMatch(/lag\s+never synced\n/);
  });

  it("status exits 1 in split brain (LiteFS says primary on a node that is not primaryHostname)", () => {
    const mount = createTempMount({ role: "primary" });
    mounts.push(mount);
    const r = runCli(["status"], staticEnv(mount, "node-b"));
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/split brain\s+YES/);
  });

  it("check passes on a healthy mount and fails with a clear message without one", () => {
    const mount = createTempMount({ role: "primary" });
    mounts.push(mount);
    const ok = runCli(["check"], staticEnv(mount, "node-a"));
    expect(ok.code, ok.stdout + ok.stderr).toBe(0);
    expect(ok.stdout).toContain("ok   role primary, primary node-a");

    mount.remove();
    const missing = runCli(["check"], staticEnv(mount, "node-a"));
    expect(missing.code).toBe(1);
    expect(missing.stdout).toContain("does not exist: is LiteFS running?");
  });

  it("status says role unknown when the node cannot tell (its LiteFS is down: no LiteFS files in the mount)", () => {
    const mount = createTempMount({ role: "primary" });
    mounts.push(mount);
    mount.removeFile(".lag"); // neither .primary nor .lag: what an empty mount point shows
    const json = runCli(["status", "--json"], staticEnv(mount, "node-a"));
    expect(json.code).toBe(1);
    expect(JSON.parse(json.stdout)).toMatchObject({ role: "unknown", primary: null, splitBrain: false });
    const text = runCli(["status"], staticEnv(mount, "node-a"));
    expect(text.stdout).toMatch(/role\s+unknown \(cannot read LiteFS's state/);
  });

  it("check warns that writes take the slow path when the LiteFS API is unreachable, and not when it answers", async () => {
    const mount = createTempMount({ role: "primary" });
    mounts.push(mount);
    const unreachable = runCli(["check"], staticEnv(mount, "node-a"));
    expect(unreachable.code, unreachable.stdout + unreachable.stderr).toBe(0);
    expect(unreachable.stdout).toMatch(
      /^WARN the LiteFS API at http:\/\/127\.0\.0\.1:20299 is unreachable .*slow path/m,
    );

    const api = await startEventsServer({ fixture: "primary" });
    try {
      const reachable = await runCliAsync(["check"], {
        ...staticEnv(mount, "node-a"),
        LITEFS_HTTP_ADDR: `127.0.0.1:${api.port}`,
      });
      expect(reachable.code, reachable.stdout + reachable.stderr).toBe(0);
      expect(reachable.stdout).toContain("ok   role primary, primary node-a");
      expect(reachable.stdout).not.toContain("WARN");
    } finally {
      await api.close();
    }
  });

  it("check refuses a replica that lost its primary", () => {
    const mount = createTempMount({ role: "replica-lost-primary" });
    mounts.push(mount);
    const r = runCli(["check"], staticEnv(mount, "node-b"));
    expect(r.code).toBe(1);
    expect(r.stdout).toContain("no primary is known");
  });

  it("config and run say truthfully why they are in dev mode", () => {
    // Nobody set LITEFS_ENABLED: the message must not claim someone did.
    const unset = runCli(["config"], {});
    expect(unset.code).toBe(1);
    expect(unset.stderr).toContain(
      'no LiteFS setting is set (such as LITEFS_NODE_ID) and NODE_ENV is not "production"',
    );
    expect(unset.stderr).not.toContain("LITEFS_ENABLED");
    expect(unset.stderr.trim().split("\n")).toHaveLength(1);
    const explicit = runCli(["config"], { LITEFS_ENABLED: "0" });
    expect(explicit.code).toBe(1);
    expect(explicit.stderr).toContain("dev mode: LITEFS_ENABLED=0");
    const run = runCli(["run"], {});
    expect(run.code).toBe(1);
    expect(run.stderr).toContain("run needs LiteFS (dev mode: no LiteFS setting is set");
  });

  it("check accepts dev mode", () => {
    const r = runCli(["check"], { LITEFS_ENABLED: "false" });
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toContain("dev mode");
  });
});

describe("litefs-node status in raft mode", () => {
  it("shows the Raft term, leader, lease holder and the write gate from the published lease state", async () => {
    const mount = createTempMount({ role: "primary" });
    mounts.push(mount);
    const statePath = writeLeaderLeaseState(mount.path);
    const env = {
      LITEFS_MOUNT_PATH: mount.path,
      LITEFS_DATA_PATH: `${mount.path}-data`,
      LITEFS_DATABASE: mount.databaseName,
      LITEFS_NODE_ID: "node-b",
      LITEFS_LEADER_ELECTION: "raft",
      LITEFS_RAFT_SELF_ADDR: "node-b:7000",
      LITEFS_RAFT_PEERS: "node-a:7000,node-c:7000",
      LITEFS_RAFT_SECRET: "0123456789abcdef",
      LITEFS_HTTP_ADDR: "127.0.0.1:20299",
    };
    const r = runCli(["status"], env);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/raft term\s+7/);
    expect(r.stdout).toMatch(/raft leader\s+node-b:7000/);
    expect(r.stdout).toMatch(/lease holder\s+node-b/);
    expect(r.stdout).toMatch(/write gate\s+open/);

    rmSync(statePath);
    const down = runCli(["status", "--json"], env);
    expect(down.code).toBe(1);
    const report = JSON.parse(down.stdout) as { splitBrain: boolean; raft: { gate: string; problem: string } };
    expect(report.splitBrain).toBe(true);
    expect(report.raft.gate).toBe("closed");
    expect(report.raft.problem).toMatch(/no lease state/);
  });

  it("lists run and lease-server in the usage", () => {
    const r = runCli(["--help"]);
    expect(r.stdout).toContain("lease-server");
    expect(r.stdout).toMatch(/\n {2}run /);
  });
});
