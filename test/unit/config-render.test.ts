import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { ConfigError } from "../../src/errors.js";
import {
  findUnknownLitefsKeys,
  KNOWN_LITEFS_KEYS,
  loadSettings,
  renderLitefsConfig,
  type LiteFSSettingsInput,
} from "../../src/config/index.js";

type Doc = Record<string, unknown>;

function fixture(name: string): Doc {
  const path = fileURLToPath(new URL(`../fixtures/litefs-0.5.14/${name}`, import.meta.url));
  return parse(readFileSync(path, "utf8")) as Doc;
}

function rendered(input: LiteFSSettingsInput): Doc {
  const text = renderLitefsConfig(loadSettings(input, {}));
  return parse(text) as Doc;
}

// The two-node loopback cluster the fixtures were recorded on, as litefs-node settings.
const clusterNode = (nodeId: "node-a" | "node-b", httpPort: number, proxyPort: number): LiteFSSettingsInput => ({
  nodeId,
  mountPath: `/srv/${nodeId}/mnt`,
  dataPath: `/srv/${nodeId}/data`,
  databaseName: "db",
  httpAddr: `127.0.0.1:${httpPort}`,
  primaryHostname: "node-a",
  primaryUrl: "http://127.0.0.1:20202",
  proxy: { addr: `127.0.0.1:${proxyPort}`, target: "localhost:8090" },
});

/** The keys the issue says we own; the fixtures' debug/log/exit-on-error were capture settings. */
function relevant(doc: Doc): unknown {
  const section = (name: string) => (doc[name] ?? {}) as Record<string, unknown>;
  return {
    fuse: { dir: section("fuse").dir },
    data: { dir: section("data").dir },
    http: { addr: section("http").addr },
    proxy: { addr: section("proxy").addr, target: section("proxy").target, db: section("proxy").db },
    lease: section("lease"),
  };
}

describe("static lease matches the recorded LiteFS 0.5.14 configs", () => {
  it("primary node renders like static-primary.yml", () => {
    const ours = rendered(clusterNode("node-a", 20202, 8080));
    expect(relevant(ours)).toEqual(relevant(fixture("static-primary.yml")));
    expect((ours.lease as Record<string, unknown>).candidate).toBe(true);
  });

  it("replica node renders like static-replica.yml", () => {
    const ours = rendered(clusterNode("node-b", 20203, 8081));
    expect(relevant(ours)).toEqual(relevant(fixture("static-replica.yml")));
    const lease = ours.lease as Record<string, unknown>;
    expect(lease.candidate).toBe(false);
    // Every node names the primary, not itself.
    expect(lease.hostname).toBe("node-a");
    expect(lease["advertise-url"]).toBe("http://127.0.0.1:20202");
  });

  it("the fixtures themselves use only known keys (the key tree is not too narrow)", () => {
    expect(findUnknownLitefsKeys(fixture("static-primary.yml"))).toEqual([]);
    expect(findUnknownLitefsKeys(fixture("static-replica.yml"))).toEqual([]);
  });

  it("writes data.retention and nothing else outside the owned sections", () => {
    const ours = rendered({ ...clusterNode("node-a", 20202, 8080), retention: "30m" });
    expect(Object.keys(ours).sort()).toEqual(["data", "fuse", "http", "lease", "proxy"]);
    expect(ours.data).toEqual({ dir: "/srv/node-a/data", retention: "30m" });
  });
});

describe("raft lease renders as consul pointing at the local lease service", () => {
  const raftNode: LiteFSSettingsInput = {
    leaderElection: "raft",
    nodeId: "node-b",
    httpAddr: ":20202",
    raft: {
      selfAddr: "node-b:4001",
      peers: ["node-a:4001", "node-c:4001"],
      leasePort: 8600,
      secret: "0123456789abcdef",
    },
  };

  it("has the agreed consul lease", () => {
    const doc = rendered(raftNode);
    expect(doc.lease).toEqual({
      type: "consul",
      hostname: "node-b",
      "advertise-url": "http://node-b:20202",
      candidate: true,
      consul: { url: "http://127.0.0.1:8600", key: "litefs/primary", ttl: "5s", "lock-delay": "500ms" },
    });
    expect(findUnknownLitefsKeys(doc)).toEqual([]);
  });

  it("uses an explicit advertiseUrl and the default lease port", () => {
    const doc = rendered({
      ...raftNode,
      advertiseUrl: "https://b.example:443",
      raft: { selfAddr: "node-b:4001", peers: ["node-a:4001"], secret: "0123456789abcdef" },
    });
    const lease = doc.lease as { "advertise-url": string; consul: { url: string } };
    expect(lease["advertise-url"]).toBe("https://b.example:443");
    expect(lease.consul.url).toBe("http://127.0.0.1:8500");
  });
});

describe("optional sections", () => {
  const base: LiteFSSettingsInput = { nodeId: "node-a", primaryHostname: "node-a" };

  it("omits proxy and exec when unset", () => {
    const doc = rendered(base);
    expect(doc).not.toHaveProperty("proxy");
    expect(doc).not.toHaveProperty("exec");
  });

  it("writes proxy passthrough and max-lag only when set", () => {
    expect(rendered({ ...base, proxy: { target: "localhost:3000" } }).proxy).toEqual({
      addr: ":8080",
      target: "localhost:3000",
      db: "db.sqlite3",
    });
    expect(
      rendered({ ...base, proxy: { target: "localhost:3000", passthrough: ["/static/*", "*.png"], maxLag: "5s" } })
        .proxy,
    ).toEqual({
      addr: ":8080",
      target: "localhost:3000",
      db: "db.sqlite3",
      passthrough: ["/static/*", "*.png"],
      "max-lag": "5s",
    });
  });

  it("writes exec as a single string, quotes and all", () => {
    const exec = `sh -c "npx prisma migrate deploy && node server.js --port=3000"`;
    expect(rendered({ ...base, exec }).exec).toBe(exec);
  });
});

describe("YAML text", () => {
  it("quotes values Go's YAML decoder could misread", () => {
    const text = renderLitefsConfig(
      loadSettings({ nodeId: "yes", primaryHostname: "yes", httpAddr: ":20202", retention: "0" }, {}),
    );
    expect(text).toContain(`addr: ":20202"`);
    expect(text).toContain(`hostname: "yes"`);
    expect(text).toContain(`retention: "0"`);
    const doc = parse(text) as { lease: { hostname: unknown }; data: { retention: unknown } };
    expect(doc.lease.hostname).toBe("yes");
    expect(doc.data.retention).toBe("0");
  });

  it("never folds a long value onto several lines", () => {
    const exec = `node ${"x".repeat(300)}.js`;
    const text = renderLitefsConfig(loadSettings({ nodeId: "node-a", primaryHostname: "node-a", exec }, {}));
    expect(text.split("\n").some((line) => line.includes(exec))).toBe(true);
  });
});

describe("dev mode", () => {
  it("refuses to render: LiteFS is not used in dev mode", () => {
    const settings = loadSettings({ enabled: false }, {});
    expect(() => renderLitefsConfig(settings)).toThrow(ConfigError);
    expect(() => renderLitefsConfig(settings)).toThrow(/dev mode.*LiteFS is not used/);
    try {
      renderLitefsConfig(settings);
    } catch (error) {
      expect((error as ConfigError).issues[0]).toMatchObject({ setting: "enabled", env: "LITEFS_ENABLED" });
    }
  });
});

describe("findUnknownLitefsKeys", () => {
  it("finds unknown keys at any depth and sections in the wrong place", () => {
    expect(
      findUnknownLitefsKeys({ fuse: { dir: "/x", dri: "/y" }, lease: { consul: { url: "u", token: "t" } }, extra: 1 }),
    ).toEqual(["fuse.dri", "lease.consul.token", "extra"]);
    expect(findUnknownLitefsKeys({ fuse: "/x" })).toEqual(["fuse (a value where LiteFS expects a section)"]);
    expect(findUnknownLitefsKeys({ exit_on_error: true })).toEqual(["exit_on_error"]);
    expect(findUnknownLitefsKeys({ data: { dir: { nested: 1 } } })).toEqual([
      "data.dir (a section where LiteFS expects a value)",
    ]);
  });

  it("covers every top-level section of the LiteFS 0.5.14 config", () => {
    expect(Object.keys(KNOWN_LITEFS_KEYS).sort()).toEqual(
      [
        "backup",
        "data",
        "exec",
        "exit-on-error",
        "fuse",
        "http",
        "lease",
        "log",
        "proxy",
        "skip-sync",
        "strict-verify",
        "tracing",
      ].sort(),
    );
    expect(Object.isFrozen(KNOWN_LITEFS_KEYS)).toBe(true);
  });
});
