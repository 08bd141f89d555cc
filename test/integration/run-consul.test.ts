// `litefs-node run` in consul mode (Fly.io style): no lease service, and the litefs.yml LiteFS
// reads carries the ${VAR} references from the env unexpanded, for LiteFS to expand.
import type { ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse } from "yaml";
import { afterEach, describe, expect, it } from "vitest";
import { runEnv, spawnRun, within, writeScript } from "../support/run/spawn-run.js";
import { expandLikeLitefs } from "../support/litefs-env-expand.js";

let root = "";
const children = new Set<ChildProcess>();
afterEach(() => {
  for (const c of children) c.kill("SIGKILL");
  children.clear();
  if (root) rmSync(root, { recursive: true, force: true });
});

describe("litefs-node run, leaderElection consul", () => {
  it("writes the Fly.io lease with references intact and starts LiteFS without a lease service", async () => {
    root = mkdtempSync(join(tmpdir(), "run-consul-"));
    const seen = join(root, "seen.yml");
    // The fake litefs keeps the file it was given: what real LiteFS would read.
    const bin = writeScript(join(root, "litefs"), `cp "$3" "${seen}"\nexit 0`);
    const env = runEnv({
      LITEFS_BIN: bin,
      LITEFS_LEADER_ELECTION: "consul",
      LITEFS_MOUNT_PATH: join(root, "mnt"),
      LITEFS_DATA_PATH: join(root, "data"),
      LITEFS_CONSUL_URL: "${FLY_CONSUL_URL}",
      LITEFS_CONSUL_KEY: "litefs/${FLY_APP_NAME}",
      LITEFS_CONSUL_CANDIDATE: "${FLY_REGION == PRIMARY_REGION}",
      LITEFS_ADVERTISE_URL: "http://${HOSTNAME}.vm.${FLY_APP_NAME}.internal:20202",
    });
    const run = spawnRun(["--", "node", "server.js"], env, children);
    expect(await within(run.exited, 20_000, "run exit"), run.out()).toBe(0);
    expect(run.out()).not.toMatch(/lease service/);

    const text = readFileSync(seen, "utf8");
    expect(text).toContain("  candidate: ${FLY_REGION == PRIMARY_REGION}\n");
    expect(parse(text).lease).toEqual({
      type: "consul",
      "advertise-url": "http://${HOSTNAME}.vm.${FLY_APP_NAME}.internal:20202",
      candidate: "${FLY_REGION == PRIMARY_REGION}",
      promote: false,
      consul: { url: "${FLY_CONSUL_URL}", key: "litefs/${FLY_APP_NAME}", ttl: "10s", "lock-delay": "1s" },
    });
    const expanded = parse(
      expandLikeLitefs(text, {
        FLY_REGION: "iad",
        PRIMARY_REGION: "iad",
        FLY_CONSUL_URL: "https://:t@consul.example/app/",
        FLY_APP_NAME: "app",
        HOSTNAME: "m1",
      }),
    );
    expect(expanded.lease).toMatchObject({
      candidate: true,
      consul: { url: "https://:t@consul.example/app/", key: "litefs/app" },
    });
  }, 60_000);
});
