// The Docker files under examples/docker are what users copy: no Docker engine here, so they are
// parsed and every command and environment variable they use is checked against the code. The
// entrypoint must be exec form without npx (signals reach `litefs-node run`), the health check
// must hit the health endpoint, restarts must be on, and the image must carry production
// dependencies only.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parse } from "yaml";
import { describe, expect, it } from "vitest";
import { COMMANDS } from "../../bin/commands/index.js";
import { parseMigrateArgs } from "../../bin/commands/migrate-args.js";
import { SETTINGS_REFERENCE } from "../../src/config/reference.js";
import { FORWARD_ENV } from "../../src/forward/settings.js";
import { HEALTH_PATH } from "../../src/health/endpoints.js";

const DIR = fileURLToPath(new URL("../../examples/docker/", import.meta.url));
const RUN_SOURCE = readFileSync(fileURLToPath(new URL("../../bin/commands/run.ts", import.meta.url)), "utf8");
// Variables the code reads outside the settings tables (each is in the README too).
const OTHER_ENV = ["LITEFS_LEASE_TOKEN", "LITEFS_BIN", "LITEFS_LOG_LEVEL", "NODE_ENV"];
const KNOWN_ENV = new Set([...SETTINGS_REFERENCE.map((r) => r.env), ...Object.values(FORWARD_ENV), ...OTHER_ENV]);

/** Checks an argv that starts the litefs-node CLI: exec form, a real command, arguments it accepts. */
function checkCliArgv(argv: readonly string[]): void {
  expect(argv.slice(0, 2), "exec form: node runs the bin directly, never npx").toEqual([
    "node",
    "node_modules/.bin/litefs-node",
  ]);
  const [command, ...rest] = argv.slice(2);
  expect(Object.keys(COMMANDS)).toContain(command);
  if (command === "migrate") {
    expect(parseMigrateArgs(rest)).toMatchObject({ kind: "args" });
  }
  if (command === "run") {
    // Every option given is one run declares (its parseArgs table), with a value.
    const dash = rest.indexOf("--");
    const own = dash === -1 ? rest : rest.slice(0, dash);
    for (const option of own.filter((a) => a.startsWith("--"))) {
      const key = option.slice(2).split("=")[0]!;
      expect(
        RUN_SOURCE.includes(`${key}: { type: "string" }`) || RUN_SOURCE.includes(`"${key}": { type: "string" }`),
        `run has ${option}`,
      ).toBe(true);
    }
    const migrate = own[own.indexOf("--migrate") + 1];
    if (own.includes("--migrate")) checkCliArgv(migrate!.split(" "));
    expect(dash, "run needs the app command after --").toBeGreaterThan(-1);
    expect(rest.slice(dash + 1)[0]).toBe("node");
  }
}

describe("examples/docker", () => {
  it("Dockerfile: production-only dependencies, LiteFS and FUSE, exec-form entrypoint of litefs-node run", () => {
    const text = readFileSync(join(DIR, "Dockerfile"), "utf8");
    expect(text).toMatch(/npm prune --omit=dev|npm ci --omit=dev/);
    expect(text).toMatch(/COPY --from=flyio\/litefs:0\.5\.14 \/usr\/local\/bin\/litefs/);
    expect(text).toMatch(/fuse3/);
    const instructions = text.split("\n").filter((l) => !l.startsWith("#"));
    expect(instructions.join("\n")).not.toMatch(/npx/);
    const entry = /^ENTRYPOINT (\[.*\])$/m.exec(text);
    expect(entry, "ENTRYPOINT in exec (JSON) form").not.toBeNull();
    checkCliArgv(JSON.parse(entry![1]!) as string[]);
    for (const [, name] of text.matchAll(/^ENV (\w+)=/gm)) expect(KNOWN_ENV).toContain(name);
  });

  it(".dockerignore keeps dependencies, builds, local databases and secrets out of the context", () => {
    const lines = readFileSync(join(DIR, ".dockerignore"), "utf8")
      .split("\n")
      .map((l) => l.trim());
    for (const entry of ["node_modules", "dist", ".git", ".env", ".litefs-dev", "*.sqlite3"])
      expect(lines).toContain(entry);
  });

  for (const file of ["compose.static.yaml", "compose.raft.yaml"]) {
    it(`${file}: known env names, ports, health check on the health endpoint, restarts, room to stop`, () => {
      expect(existsSync(join(DIR, file))).toBe(true);
      const doc = parse(readFileSync(join(DIR, file), "utf8"), { merge: true }) as {
        services: Record<string, Record<string, unknown>>;
      };
      const services = Object.entries(doc.services);
      expect(services.length).toBeGreaterThanOrEqual(file.includes("raft") ? 3 : 2);
      const ids = new Set<string>();
      for (const [name, service] of services) {
        const env = service["environment"] as Record<string, string>;
        for (const key of Object.keys(env)) expect(KNOWN_ENV, `${name}: ${key}`).toContain(key);
        expect(env["LITEFS_NODE_ID"]).toBe(service["hostname"]);
        ids.add(env["LITEFS_NODE_ID"]!);
        if (file.includes("raft")) {
          expect(env["LITEFS_LEADER_ELECTION"]).toBe("raft");
          expect(env["LITEFS_RAFT_SELF_ADDR"]).toBe(`${name}:4001`);
          expect(env["LITEFS_RAFT_PEERS"]!.split(",").sort()).toEqual(
            services
              .map(([n]) => `${n}:4001`)
              .filter((a) => a !== `${name}:4001`)
              .sort(),
          );
        }
        expect(service["restart"]).toMatch(/^(unless-stopped|always|on-failure)$/);
        expect(service["init"]).toBe(true);
        expect(service["devices"]).toEqual(["/dev/fuse"]);
        expect((service["ports"] as string[]).length).toBeGreaterThan(0);
        const health = service["healthcheck"] as { test: string[] };
        expect(health.test.join(" ")).toContain(`http://127.0.0.1:8080${HEALTH_PATH}`);
        expect(String(service["stop_grace_period"])).toMatch(/^\d+s$/);
        // Raft mode fails over automatically: replicas must not sit minutes on a dead primary's stream.
        if (file.includes("raft")) expect(service["sysctls"]).toEqual({ "net.ipv4.tcp_keepalive_probes": 2 });
        // No entrypoint override: the image's (checked above) is used; if one is given, same rules.
        if (service["entrypoint"]) checkCliArgv(service["entrypoint"] as string[]);
      }
      expect(ids.size).toBe(services.length);
    });
  }
});
