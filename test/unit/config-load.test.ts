import { resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { ConfigError, type ConfigIssue } from "../../src/errors.js";
import { loadSettings, SETTINGS_REFERENCE, type LiteFSSettingsInput } from "../../src/config/index.js";

const STATIC_NODE: LiteFSSettingsInput = { nodeId: "node-a", primaryHostname: "node-a" };
const RAFT_NODE: LiteFSSettingsInput = {
  leaderElection: "raft",
  nodeId: "node-a",
  raft: { selfAddr: "node-a:4001", peers: ["node-b:4001", "node-c:4001"], secret: "0123456789abcdef" },
};

/** Runs loadSettings expecting a ConfigError; returns it. */
function configError(input: unknown, env: NodeJS.ProcessEnv = {}): ConfigError {
  try {
    loadSettings(input as LiteFSSettingsInput, env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error("expected loadSettings to throw a ConfigError");
}

/** Asserts one issue names `setting` and `env` and says `fragment`; also that the error text shows both names. */
function expectIssue(error: ConfigError, setting: string, env: string | null, fragment: string | RegExp): ConfigIssue {
  const found = error.issues.find(
    (i) =>
      i.setting === setting && (typeof fragment === "string" ? i.message.includes(fragment) : fragment.test(i.message)),
  );
  expect(found, `no issue for ${setting} matching ${String(fragment)} in:\n${error.message}`).toBeDefined();
  expect(found!.env).toBe(env);
  expect(error.message).toContain(env ? `${setting} (${env})` : setting);
  expect(error.code).toBe("LITEFS_CONFIG");
  return found!;
}

describe("loadSettings defaults", () => {
  it("fills every default for a static node", () => {
    const s = loadSettings(STATIC_NODE, {});
    expect(s).toEqual({
      enabled: true,
      devDatabasePath: resolve(process.cwd(), ".litefs-dev/db.sqlite3"),
      mountPath: "/litefs",
      dataPath: "/var/lib/litefs",
      databaseName: "db.sqlite3",
      nodeId: "node-a",
      leaderElection: "static",
      primaryHostname: "node-a",
      primaryUrl: "http://node-a:20202",
      httpAddr: ":20202",
      advertiseUrl: null,
      proxy: null,
      retention: "1h",
      databaseWaitTimeout: "30s",
      raft: null,
      consul: null,
      exec: null,
    });
  });

  it("derives primaryUrl from the httpAddr port", () => {
    expect(loadSettings({ ...STATIC_NODE, httpAddr: "0.0.0.0:3030" }, {}).primaryUrl).toBe("http://node-a:3030");
  });

  it("fills raft defaults: leasePort 8500, dataDir under dataPath, advertiseUrl from nodeId", () => {
    const s = loadSettings({ ...RAFT_NODE, dataPath: "/data/litefs" }, {});
    expect(s.raft).toEqual({
      selfAddr: "node-a:4001",
      peers: ["node-b:4001", "node-c:4001"],
      leasePort: 8500,
      forwardPort: null,
      secret: "0123456789abcdef",
      leaseToken: null,
      dataDir: "/data/litefs/raft",
      bootstrap: false,
    });
    expect(s.advertiseUrl).toBe("http://node-a:20202");
    expect(s.primaryHostname).toBeNull();
    expect(s.primaryUrl).toBeNull();
  });

  it("fills proxy defaults: addr :8080, db = databaseName, no passthrough, no max lag", () => {
    const s = loadSettings({ ...STATIC_NODE, databaseName: "app.db", proxy: { target: "localhost:3000" } }, {});
    expect(s.proxy).toEqual({ addr: ":8080", target: "localhost:3000", db: "app.db", passthrough: [], maxLag: null });
  });

  it("dev mode needs no nodeId or primaryHostname and resolves the dev database against cwd", () => {
    const s = loadSettings({ enabled: false }, {});
    expect(s.enabled).toBe(false);
    expect(s.nodeId).toBeNull();
    expect(s.primaryHostname).toBeNull();
    expect(s.primaryUrl).toBeNull();
    expect(s.devDatabasePath).toBe(resolve(process.cwd(), ".litefs-dev", "db.sqlite3"));
    expect(loadSettings({ enabled: false, devDatabasePath: "tmp/x.db" }, {}).devDatabasePath).toBe(resolve("tmp/x.db"));
  });

  it("dev mode in raft election needs no raft section", () => {
    const s = loadSettings({ enabled: false, leaderElection: "raft" }, {});
    expect(s.raft).toBeNull();
    expect(s.advertiseUrl).toBeNull();
  });

  it("uses process.env when no env is passed", () => {
    const before = process.env.LITEFS_NODE_ID;
    process.env.LITEFS_NODE_ID = "from-process-env";
    try {
      expect(loadSettings({ primaryHostname: "node-a" }).nodeId).toBe("from-process-env");
    } finally {
      if (before === undefined) delete process.env.LITEFS_NODE_ID;
      else process.env.LITEFS_NODE_ID = before;
    }
  });
});

describe("loadSettings result is deeply frozen", () => {
  it("freezes settings, proxy, raft and lists", () => {
    const s = loadSettings({ ...RAFT_NODE, proxy: { target: "localhost:3000", passthrough: ["/static/*"] } }, {});
    expect(Object.isFrozen(s)).toBe(true);
    expect(Object.isFrozen(s.proxy)).toBe(true);
    expect(Object.isFrozen(s.proxy!.passthrough)).toBe(true);
    expect(Object.isFrozen(s.raft)).toBe(true);
    expect(Object.isFrozen(s.raft!.peers)).toBe(true);
    expect(() => {
      (s as { nodeId: string }).nodeId = "x";
    }).toThrow(TypeError);
    expect(() => (s.raft!.peers as string[]).push("node-d:4001")).toThrow(TypeError);
  });

  it("does not freeze or keep the caller's input", () => {
    const input = {
      ...RAFT_NODE,
      raft: { selfAddr: "node-a:4001", peers: ["node-b:4001"], secret: "0123456789abcdef" },
    };
    const s = loadSettings(input, {});
    expect(Object.isFrozen(input.raft.peers)).toBe(false);
    input.raft.peers.push("node-z:4001");
    expect(s.raft!.peers).toEqual(["node-b:4001"]);
  });
});

describe("environment variables", () => {
  it("reads every LITEFS_* variable", () => {
    const s = loadSettings(undefined, {
      LITEFS_ENABLED: "yes",
      LITEFS_DEV_DATABASE: "/tmp/dev.db",
      LITEFS_MOUNT_PATH: "/mnt/litefs",
      LITEFS_DATA_PATH: "/data/litefs",
      LITEFS_DATABASE: "app.db",
      LITEFS_NODE_ID: "node-a",
      LITEFS_LEADER_ELECTION: "raft",
      LITEFS_HTTP_ADDR: "127.0.0.1:20210",
      LITEFS_ADVERTISE_URL: "https://node-a.internal:20210",
      LITEFS_PROXY_ADDR: ":8081",
      LITEFS_PROXY_TARGET: "localhost:3000",
      LITEFS_PROXY_MAX_LAG: "10s",
      LITEFS_PROXY_DB: "other.db",
      LITEFS_PROXY_PASSTHROUGH: "/static/*, *.png",
      LITEFS_RETENTION: "1h30m",
      LITEFS_RAFT_SELF_ADDR: "node-a:4001",
      LITEFS_RAFT_PEERS: " node-b:4001 , node-c:4001 ,",
      LITEFS_RAFT_LEASE_PORT: "8600",
      LITEFS_RAFT_FORWARD_PORT: "4002",
      LITEFS_RAFT_SECRET: "s3cret-s3cret-s3cret",
      LITEFS_RAFT_LEASE_TOKEN: "t0ken-t0ken-t0ken-t0ken",
      LITEFS_RAFT_DATA_DIR: "/data/raft",
      LITEFS_RAFT_BOOTSTRAP: "true",
      LITEFS_EXEC: "node server.js",
    });
    expect(s).toEqual({
      enabled: true,
      devDatabasePath: "/tmp/dev.db",
      mountPath: "/mnt/litefs",
      dataPath: "/data/litefs",
      databaseName: "app.db",
      nodeId: "node-a",
      leaderElection: "raft",
      primaryHostname: null,
      primaryUrl: null,
      httpAddr: "127.0.0.1:20210",
      advertiseUrl: "https://node-a.internal:20210",
      proxy: {
        addr: ":8081",
        target: "localhost:3000",
        db: "other.db",
        passthrough: ["/static/*", "*.png"],
        maxLag: "10s",
      },
      retention: "1h30m",
      databaseWaitTimeout: "30s",
      raft: {
        selfAddr: "node-a:4001",
        peers: ["node-b:4001", "node-c:4001"],
        leasePort: 8600,
        forwardPort: 4002,
        secret: "s3cret-s3cret-s3cret",
        leaseToken: "t0ken-t0ken-t0ken-t0ken",
        dataDir: "/data/raft",
        bootstrap: true,
      },
      consul: null,
      exec: "node server.js",
    });
  });

  it("reads the static-mode variables", () => {
    const s = loadSettings(undefined, {
      LITEFS_NODE_ID: "node-b",
      LITEFS_PRIMARY_HOSTNAME: "node-a",
      LITEFS_PRIMARY_URL: "http://10.0.0.1:20202",
    });
    expect(s.primaryHostname).toBe("node-a");
    expect(s.primaryUrl).toBe("http://10.0.0.1:20202");
  });

  it.each([
    ["true", true],
    ["TRUE", true],
    ["1", true],
    ["yes", true],
    ["false", false],
    ["0", false],
    ["No", false],
  ])("LITEFS_ENABLED=%s means %s", (text, value) => {
    expect(loadSettings(STATIC_NODE, { LITEFS_ENABLED: text }).enabled).toBe(value);
  });

  it.each(["maybe", "on", "2", "truee"])("LITEFS_ENABLED=%s is an error naming LITEFS_ENABLED", (text) => {
    const error = configError(STATIC_NODE, { LITEFS_ENABLED: text });
    expectIssue(error, "enabled", "LITEFS_ENABLED", `got "${text}"`);
  });

  it("treats empty and blank variables as unset", () => {
    const s = loadSettings(STATIC_NODE, { LITEFS_PROXY_ADDR: "", LITEFS_EXEC: "  ", LITEFS_MOUNT_PATH: "" });
    expect(s.proxy).toBeNull();
    expect(s.exec).toBeNull();
    expect(s.mountPath).toBe("/litefs");
  });

  it("LITEFS_RAFT_LEASE_PORT must be a whole number", () => {
    const error = configError(RAFT_NODE, { LITEFS_RAFT_LEASE_PORT: "85.5" });
    expectIssue(error, "raft.leasePort", "LITEFS_RAFT_LEASE_PORT", `got "85.5"`);
    expect(error.issues).toHaveLength(1);
  });

  it("LITEFS_RAFT_LEASE_PORT out of range is reported with the env name", () => {
    expectIssue(
      configError(RAFT_NODE, { LITEFS_RAFT_LEASE_PORT: "70000" }),
      "raft.leasePort",
      "LITEFS_RAFT_LEASE_PORT",
      "from 1 to 65535, got 70000",
    );
  });

  it("ignores LITEFS_* variables it does not know", () => {
    expect(() => loadSettings(STATIC_NODE, { LITEFS_SOMETHING_ELSE: "x", LITEFS_DIR: "/x" })).not.toThrow();
  });
});

describe("object over env precedence", () => {
  it("an object value wins over its variable", () => {
    const s = loadSettings(
      { ...STATIC_NODE, mountPath: "/from-object" },
      { LITEFS_MOUNT_PATH: "/from-env", LITEFS_NODE_ID: "env-node" },
    );
    expect(s.mountPath).toBe("/from-object");
    expect(s.nodeId).toBe("node-a");
  });

  it("an undefined object key falls back to the env", () => {
    const s = loadSettings({ ...STATIC_NODE, mountPath: undefined }, { LITEFS_MOUNT_PATH: "/from-env" });
    expect(s.mountPath).toBe("/from-env");
  });

  it("an object false wins over LITEFS_ENABLED=true", () => {
    expect(loadSettings({ enabled: false }, { LITEFS_ENABLED: "true" }).enabled).toBe(false);
  });

  it("merges proxy and raft one level down", () => {
    const s = loadSettings(
      {
        leaderElection: "raft",
        nodeId: "node-a",
        raft: { leasePort: 9000, secret: "0123456789abcdef" },
        proxy: { addr: ":9090" },
      },
      {
        LITEFS_RAFT_SELF_ADDR: "node-a:4001",
        LITEFS_RAFT_PEERS: "node-b:4001",
        LITEFS_RAFT_LEASE_PORT: "8600",
        LITEFS_PROXY_TARGET: "localhost:3000",
        LITEFS_PROXY_ADDR: ":8081",
      },
    );
    expect(s.raft).toMatchObject({ selfAddr: "node-a:4001", peers: ["node-b:4001"], leasePort: 9000 });
    expect(s.proxy).toMatchObject({ addr: ":9090", target: "localhost:3000" });
  });

  it("an object's null turns an env-configured section or value off", () => {
    const s = loadSettings(
      { ...STATIC_NODE, proxy: null, exec: null },
      { LITEFS_PROXY_TARGET: "localhost:3000", LITEFS_EXEC: "node server.js" },
    );
    expect(s.proxy).toBeNull();
    expect(s.exec).toBeNull();
  });

  it("an object list replaces the env list", () => {
    const s = loadSettings(
      { ...RAFT_NODE, raft: { peers: ["node-x:4001"], secret: "0123456789abcdef" } },
      { LITEFS_RAFT_SELF_ADDR: "node-a:4001", LITEFS_RAFT_PEERS: "node-b:4001,node-c:4001" },
    );
    expect(s.raft!.peers).toEqual(["node-x:4001"]);
  });

  it("an invalid env value is not reported when the object overrides it", () => {
    expect(loadSettings({ ...STATIC_NODE, mountPath: "/ok" }, { LITEFS_MOUNT_PATH: "relative" }).mountPath).toBe("/ok");
  });
});

describe("every problem at once", () => {
  it("reports each bad value, and only once", () => {
    const error = configError(
      {
        mountPath: "mnt",
        dataPath: "data",
        databaseName: "dir/db.sqlite3",
        nodeId: "",
        retention: "1 hour",
        httpAddr: "20202",
        exec: "",
      },
      { LITEFS_ENABLED: "perhaps", LITEFS_LEADER_ELECTION: "paxos" },
    );
    const settings = error.issues.map((i) => i.setting).sort();
    expect(settings).toEqual([
      "dataPath",
      "databaseName",
      "enabled",
      "exec",
      "httpAddr",
      "leaderElection",
      "mountPath",
      "nodeId",
      "retention",
    ]);
    for (const issue of error.issues) expect(error.message).toContain(issue.message);
  });

  it("reports field and relation problems together", () => {
    const error = configError({
      leaderElection: "raft",
      nodeId: "node-a",
      retention: "forever",
      mountPath: "/litefs",
      dataPath: "/litefs/data",
      raft: { selfAddr: "node-a:4001", peers: ["node-b:4001", "node-b:4001", "node-a:4001"], leasePort: 0 },
    });
    expectIssue(error, "retention", "LITEFS_RETENTION", "Go duration");
    expectIssue(error, "dataPath", "LITEFS_DATA_PATH", "inside mountPath");
    expectIssue(error, "raft.peers", "LITEFS_RAFT_PEERS", "more than once");
    expectIssue(error, "raft.peers", "LITEFS_RAFT_PEERS", "own address raft.selfAddr");
    expectIssue(error, "raft.leasePort", "LITEFS_RAFT_LEASE_PORT", "got 0");
  });
});

describe("rules, one bad value each", () => {
  it.each([
    ["mountPath", "LITEFS_MOUNT_PATH", "litefs"],
    ["dataPath", "LITEFS_DATA_PATH", "data"],
    ["dataPath", "LITEFS_DATA_PATH", "./var/lib/litefs"],
  ])("relative %s is refused", (setting, env, value) => {
    const error = configError({ ...STATIC_NODE, [setting]: value });
    expectIssue(error, setting, env, `must be an absolute path, got "${value}"`);
  });

  it("relative paths given through the env name the env variable", () => {
    const error = configError(STATIC_NODE, { LITEFS_MOUNT_PATH: "mnt" });
    expectIssue(error, "mountPath", "LITEFS_MOUNT_PATH", `must be an absolute path, got "mnt"`);
    expect(error.message).toContain("LITEFS_MOUNT_PATH");
  });

  it.each([
    ["/litefs", "/litefs/data", "inside"],
    ["/litefs", "/litefs", "the same as"],
    ["/litefs/", "/litefs", "the same as"],
    ["/litefs", "/litefs/./x/../data", "inside"],
  ])("dataPath %s vs mountPath %s is refused", (mountPath, dataPath, word) => {
    expectIssue(
      configError({ ...STATIC_NODE, mountPath, dataPath }),
      "dataPath",
      "LITEFS_DATA_PATH",
      `must not be ${word} mountPath`,
    );
  });

  it("a dataPath that only shares a prefix with mountPath is fine", () => {
    expect(loadSettings({ ...STATIC_NODE, mountPath: "/litefs", dataPath: "/litefs-data" }, {}).dataPath).toBe(
      "/litefs-data",
    );
  });

  it.each(["dir/db.sqlite3", "/abs.db", ".", "..", "", "a\0b", "a\\b"])("databaseName %j is refused", (name) => {
    expectIssue(
      configError({ ...STATIC_NODE, databaseName: name }),
      "databaseName",
      "LITEFS_DATABASE",
      /file name|NUL/,
    );
  });

  it("empty node id is refused", () => {
    expectIssue(configError({ ...STATIC_NODE, nodeId: "" }), "nodeId", "LITEFS_NODE_ID", "must not be empty");
  });

  it.each(["node a", "node\ta", " node-a"])("node id with whitespace %j is refused", (nodeId) => {
    expectIssue(configError({ ...STATIC_NODE, nodeId }), "nodeId", "LITEFS_NODE_ID", "without spaces");
  });

  it("node id is required when enabled", () => {
    const error = configError({ primaryHostname: "node-a" });
    expectIssue(error, "nodeId", "LITEFS_NODE_ID", "is required when LiteFS is enabled");
    expectIssue(configError({ primaryHostname: "node-a", nodeId: null }), "nodeId", "LITEFS_NODE_ID", "is required");
  });

  it("unknown election mode lists the allowed ones", () => {
    const error = configError({ ...STATIC_NODE, leaderElection: "paxos" });
    expectIssue(
      error,
      "leaderElection",
      "LITEFS_LEADER_ELECTION",
      `must be one of "static", "raft" or "consul", got "paxos"`,
    );
    expect(error.issues).toHaveLength(1);
  });

  it("primaryHostname is required for static when enabled", () => {
    expectIssue(
      configError({ nodeId: "node-a" }),
      "primaryHostname",
      "LITEFS_PRIMARY_HOSTNAME",
      `is required when leaderElection is "static"`,
    );
  });

  it("primaryHostname with whitespace is refused", () => {
    expectIssue(
      configError({ nodeId: "node-a", primaryHostname: "node a" }),
      "primaryHostname",
      "LITEFS_PRIMARY_HOSTNAME",
      "without spaces",
    );
  });

  it("primaryUrl cannot be derived from a host name that is not a URL host", () => {
    const error = configError({ nodeId: "node-a", primaryHostname: "node/a" });
    expectIssue(error, "primaryUrl", "LITEFS_PRIMARY_URL", "cannot default");
    expect(
      loadSettings({ nodeId: "node-a", primaryHostname: "node/a", primaryUrl: "http://10.0.0.1:20202" }, {}).primaryUrl,
    ).toBe("http://10.0.0.1:20202");
  });

  it.each([
    ["primaryUrl", "LITEFS_PRIMARY_URL", "node-a:20202", STATIC_NODE],
    ["primaryUrl", "LITEFS_PRIMARY_URL", "ftp://node-a:20202", STATIC_NODE],
    ["primaryUrl", "LITEFS_PRIMARY_URL", "http://", STATIC_NODE],
    ["primaryUrl", "LITEFS_PRIMARY_URL", "http://node a:20202", STATIC_NODE],
    ["primaryUrl", "LITEFS_PRIMARY_URL", "http:/node-a:20202", STATIC_NODE],
    ["primaryUrl", "LITEFS_PRIMARY_URL", "http:\\\\node-a:20202", STATIC_NODE],
    ["advertiseUrl", "LITEFS_ADVERTISE_URL", "//node-a:20202", RAFT_NODE],
    ["advertiseUrl", "LITEFS_ADVERTISE_URL", "file:///x", RAFT_NODE],
  ] as const)("%s %j must be an http(s) URL", (setting, env, value, base) => {
    expectIssue(configError({ ...base, [setting]: value }), setting, env, "must be an http:// or https:// URL");
  });

  it.each([
    ["httpAddr", "LITEFS_HTTP_ADDR", "20202", "port is missing"],
    ["httpAddr", "LITEFS_HTTP_ADDR", ":0", "from 1 to 65535, got 0"],
    ["httpAddr", "LITEFS_HTTP_ADDR", ":65536", "from 1 to 65535, got 65536"],
    ["httpAddr", "LITEFS_HTTP_ADDR", ":http", "must be a number"],
    ["httpAddr", "LITEFS_HTTP_ADDR", "::1:20202", "brackets"],
    ["httpAddr", "LITEFS_HTTP_ADDR", "bad host:20202", "host may hold"],
  ])("%s %j is refused", (setting, env, value, fragment) => {
    expectIssue(configError({ ...STATIC_NODE, [setting]: value }), setting, env, fragment);
  });

  it.each([":20202", "0.0.0.0:20202", "127.0.0.1:1", "[::1]:65535", "[::]:20202", "localhost:20202"])(
    "httpAddr %j is fine",
    (httpAddr) => {
      expect(loadSettings({ ...STATIC_NODE, httpAddr }, {}).httpAddr).toBe(httpAddr);
    },
  );

  it.each([
    ["addr", "LITEFS_PROXY_ADDR", "8080", "port is missing"],
    ["addr", "LITEFS_PROXY_ADDR", ":99999", "got 99999"],
    ["target", "LITEFS_PROXY_TARGET", ":3000", "host is missing"],
    ["target", "LITEFS_PROXY_TARGET", "localhost", "port is missing"],
    ["maxLag", "LITEFS_PROXY_MAX_LAG", "10 seconds", "Go duration"],
    ["maxLag", "LITEFS_PROXY_MAX_LAG", "1d", 'the unit "d" is not allowed'],
    ["db", "LITEFS_PROXY_DB", "a/b", "plain file name"],
  ])("proxy.%s %j is refused", (key, env, value, fragment) => {
    const error = configError({ ...STATIC_NODE, proxy: { target: "localhost:3000", [key]: value } });
    expectIssue(error, `proxy.${key}`, env, fragment);
  });

  it("proxy.passthrough items must be non-empty", () => {
    expectIssue(
      configError({ ...STATIC_NODE, proxy: { target: "localhost:3000", passthrough: ["/ok", " "] } }),
      "proxy.passthrough",
      "LITEFS_PROXY_PASSTHROUGH",
      "item 2:",
    );
  });

  it("proxy needs a target when used", () => {
    expectIssue(
      configError(STATIC_NODE, { LITEFS_PROXY_ADDR: ":8080" }),
      "proxy.target",
      "LITEFS_PROXY_TARGET",
      "is required when the proxy is used",
    );
  });

  it("proxy may not listen on the LiteFS API port", () => {
    expectIssue(
      configError({ ...STATIC_NODE, proxy: { addr: ":20202", target: "localhost:3000" } }),
      "proxy.addr",
      "LITEFS_PROXY_ADDR",
      "same port as httpAddr",
    );
    expect(
      loadSettings(
        { ...STATIC_NODE, httpAddr: "10.0.0.1:20202", proxy: { addr: "10.0.0.2:20202", target: "localhost:3000" } },
        {},
      ).proxy!.addr,
    ).toBe("10.0.0.2:20202");
  });

  it.each(["1 hour", "1H", "10", "-1s", "1h 30m", "h", "1.5.2s", "", "10sec"])(
    "retention %j is refused with valid examples",
    (retention) => {
      const issue = expectIssue(
        configError({ ...STATIC_NODE, retention }),
        "retention",
        "LITEFS_RETENTION",
        "must be a Go duration",
      );
      expect(issue.message).toContain(`"1h", "10s", "1h30m" or "500ms"`);
      expect(issue.message).toContain(`got ${JSON.stringify(retention)}`);
    },
  );

  it.each(["1h", "10s", "1h30m", "500ms", "0", "1.5h", "2h45m30.5s", "100us", "100\u00b5s", "10ns", ".5s"])(
    "retention %j is a Go duration",
    (retention) => {
      expect(loadSettings({ ...STATIC_NODE, retention }, {}).retention).toBe(retention);
    },
  );

  it("exec must not be empty when given", () => {
    expectIssue(configError({ ...STATIC_NODE, exec: "   " }), "exec", "LITEFS_EXEC", "non-empty");
  });

  it("devDatabasePath must not be empty", () => {
    expectIssue(
      configError({ enabled: false, devDatabasePath: "" }),
      "devDatabasePath",
      "LITEFS_DEV_DATABASE",
      "non-empty",
    );
  });

  it("advertiseUrl is for raft only", () => {
    expectIssue(
      configError({ ...STATIC_NODE, advertiseUrl: "http://node-a:20202" }),
      "advertiseUrl",
      "LITEFS_ADVERTISE_URL",
      `only when leaderElection is "raft"`,
    );
  });

  it("primaryHostname and primaryUrl are for static only", () => {
    const error = configError({ ...RAFT_NODE, primaryHostname: "node-a", primaryUrl: "http://node-a:20202" });
    expectIssue(error, "primaryHostname", "LITEFS_PRIMARY_HOSTNAME", `only when leaderElection is "static"`);
    expectIssue(error, "primaryUrl", "LITEFS_PRIMARY_URL", `only when leaderElection is "static"`);
  });

  it("raft settings in static mode point at LITEFS_LEADER_ELECTION", () => {
    const error = configError(STATIC_NODE, { LITEFS_RAFT_PEERS: "node-b:4001" });
    expectIssue(error, "raft.peers", "LITEFS_RAFT_PEERS", "LITEFS_LEADER_ELECTION");
  });
});

describe("raft rules", () => {
  it("raft mode requires selfAddr and peers", () => {
    const error = configError({ leaderElection: "raft", nodeId: "node-a" });
    expectIssue(error, "raft.selfAddr", "LITEFS_RAFT_SELF_ADDR", "is required");
    expectIssue(error, "raft.peers", "LITEFS_RAFT_PEERS", "is required");
  });

  it("peers must not be empty", () => {
    expectIssue(
      configError({ ...RAFT_NODE, raft: { selfAddr: "node-a:4001", peers: [] } }),
      "raft.peers",
      "LITEFS_RAFT_PEERS",
      "at least one",
    );
  });

  it("duplicate peers are refused, also when spelled differently", () => {
    expectIssue(
      configError({
        ...RAFT_NODE,
        raft: { selfAddr: "node-a:4001", peers: ["node-b:4001", "node-c:4001", "node-b:4001"] },
      }),
      "raft.peers",
      "LITEFS_RAFT_PEERS",
      `lists "node-b:4001" more than once`,
    );
    expectIssue(
      configError({ ...RAFT_NODE, raft: { selfAddr: "node-a:4001", peers: ["node-b:4001", "NODE-B:4001"] } }),
      "raft.peers",
      "LITEFS_RAFT_PEERS",
      "more than once",
    );
    expectIssue(
      configError(
        { leaderElection: "raft", nodeId: "node-a" },
        { LITEFS_RAFT_SELF_ADDR: "node-a:4001", LITEFS_RAFT_PEERS: "x:1, x:1" },
      ),
      "raft.peers",
      "LITEFS_RAFT_PEERS",
      "more than once",
    );
  });

  it("self must not be among the peers", () => {
    const error = configError({
      ...RAFT_NODE,
      raft: { selfAddr: "node-a:4001", peers: ["node-b:4001", "node-a:4001"] },
    });
    expectIssue(error, "raft.peers", "LITEFS_RAFT_PEERS", `own address raft.selfAddr "node-a:4001"`);
  });

  it.each(["node-b", "node-b:", ":4001", "node-b:0", "node-b:65536", "node b:4001"])("peer %j is refused", (peer) => {
    const error = configError({ ...RAFT_NODE, raft: { selfAddr: "node-a:4001", peers: ["node-c:4001", peer] } });
    expectIssue(error, "raft.peers", "LITEFS_RAFT_PEERS", "item 2:");
  });

  it.each(["node-a", "node-a:99999", ":4001"])("selfAddr %j is refused", (selfAddr) => {
    expectIssue(
      configError({ ...RAFT_NODE, raft: { selfAddr, peers: ["node-b:4001"] } }),
      "raft.selfAddr",
      "LITEFS_RAFT_SELF_ADDR",
      /host:port|from 1 to 65535/,
    );
  });

  it.each([0, -1, 65536, 1.5, 100000])("leasePort %s is out of range", (leasePort) => {
    expectIssue(
      configError({ ...RAFT_NODE, raft: { ...RAFT_NODE.raft, leasePort } }),
      "raft.leasePort",
      "LITEFS_RAFT_LEASE_PORT",
      "from 1 to 65535",
    );
  });

  it.each([0, 65536, 1.5])("forwardPort %s is out of range", (forwardPort) => {
    expectIssue(
      configError({ ...RAFT_NODE, raft: { ...RAFT_NODE.raft, forwardPort } }),
      "raft.forwardPort",
      "LITEFS_RAFT_FORWARD_PORT",
      "from 1 to 65535",
    );
  });

  it("forwardPort must not be the Raft port", () => {
    expectIssue(
      configError({ ...RAFT_NODE, raft: { ...RAFT_NODE.raft, forwardPort: 4001 } }),
      "raft.forwardPort",
      "LITEFS_RAFT_FORWARD_PORT",
      "must differ from the Raft port",
    );
  });

  it("leasePort must not be the LiteFS API port", () => {
    expectIssue(
      configError({ ...RAFT_NODE, raft: { ...RAFT_NODE.raft, leasePort: 20202 } }),
      "raft.leasePort",
      "LITEFS_RAFT_LEASE_PORT",
      "must differ",
    );
  });

  it("dataDir must be absolute and outside the mount", () => {
    expectIssue(
      configError({ ...RAFT_NODE, raft: { ...RAFT_NODE.raft, dataDir: "raft" } }),
      "raft.dataDir",
      "LITEFS_RAFT_DATA_DIR",
      `must be an absolute path, got "raft"`,
    );
    expectIssue(
      configError({ ...RAFT_NODE, raft: { ...RAFT_NODE.raft, dataDir: "/litefs/raft" } }),
      "raft.dataDir",
      "LITEFS_RAFT_DATA_DIR",
      "inside mountPath",
    );
  });

  it("secret is required in raft mode and must be at least 16 characters", () => {
    expectIssue(
      configError({ ...RAFT_NODE, raft: { ...RAFT_NODE.raft, secret: "" } }),
      "raft.secret",
      "LITEFS_RAFT_SECRET",
      "non-empty",
    );
    expectIssue(
      configError({ ...RAFT_NODE, raft: { ...RAFT_NODE.raft, secret: "short-secret" } }),
      "raft.secret",
      "LITEFS_RAFT_SECRET",
      "at least 16 characters",
    );
    expectIssue(
      configError({ ...RAFT_NODE, raft: { ...RAFT_NODE.raft, secret: null } }),
      "raft.secret",
      "LITEFS_RAFT_SECRET",
      "is required",
    );
  });

  it("leaseToken: at least 16 URL-safe characters, never echoed in the message; LITEFS_LEASE_TOKEN is an alias", () => {
    for (const bad of ["short-token", "has a space in it!", "dollar$sign-in-token", "x".repeat(257)]) {
      const error = configError(RAFT_NODE, { LITEFS_RAFT_LEASE_TOKEN: bad });
      expectIssue(error, "raft.leaseToken", "LITEFS_RAFT_LEASE_TOKEN", /16 to 256 characters|may hold only/);
      expect(error.message).not.toContain(bad);
    }
    expect(loadSettings(RAFT_NODE, { LITEFS_LEASE_TOKEN: "alias-token-0123456789" }).raft?.leaseToken).toBe(
      "alias-token-0123456789",
    );
    expect(
      loadSettings(RAFT_NODE, {
        LITEFS_LEASE_TOKEN: "alias-token-0123456789",
        LITEFS_RAFT_LEASE_TOKEN: "new-name-token-0123456789",
      }).raft?.leaseToken,
    ).toBe("new-name-token-0123456789");
    expect(loadSettings(RAFT_NODE, {}).raft?.leaseToken).toBeNull();
  });

  it("reads LITEFS_RAFT_BOOTSTRAP as a boolean", () => {
    const s = loadSettings({ ...RAFT_NODE, raft: { ...RAFT_NODE.raft } }, { LITEFS_RAFT_BOOTSTRAP: "yes" });
    expect(s.raft?.bootstrap).toBe(true);
    expectIssue(
      configError(RAFT_NODE, { LITEFS_RAFT_BOOTSTRAP: "maybe" }),
      "raft.bootstrap",
      "LITEFS_RAFT_BOOTSTRAP",
      "true/false",
    );
  });

  it("advertiseUrl cannot be derived from a node id that is not a URL host", () => {
    expectIssue(
      configError({ ...RAFT_NODE, nodeId: "node#a" }),
      "advertiseUrl",
      "LITEFS_ADVERTISE_URL",
      "cannot default",
    );
  });
});

describe("wrong shapes", () => {
  it("unknown keys are named, with the known ones listed", () => {
    const error = configError({ ...STATIC_NODE, nodeID: "x", proxy: { target: "localhost:3000", targt: "x" } });
    const root = expectIssue(error, "nodeID", null, "is not a known setting");
    expect(root.message).toContain("nodeId");
    expectIssue(error, "proxy.targt", null, "known in proxy: addr, target");
  });

  it("wrong types are named with what was expected", () => {
    const error = configError({ ...STATIC_NODE, enabled: "yes", raft: "node-b:4001", httpAddr: 20202 });
    expectIssue(error, "enabled", "LITEFS_ENABLED", 'must be true or false, got "yes"');
    expectIssue(error, "httpAddr", "LITEFS_HTTP_ADDR", "must be a string, got number 20202");
    expectIssue(error, "raft", null, "must be an object or null");
  });

  it("peers must be a list", () => {
    expectIssue(
      configError({ ...RAFT_NODE, raft: { selfAddr: "node-a:4001", peers: "node-b:4001" } }),
      "raft.peers",
      "LITEFS_RAFT_PEERS",
      "must be a list",
    );
  });

  it.each([["a string"], [42], [[1, 2]]])("input %j that is not an object is refused", (input) => {
    expectIssue(configError(input), "settings", null, "must be an object");
  });
});

describe("SETTINGS_REFERENCE", () => {
  const requiredEnv = [
    "LITEFS_ENABLED",
    "LITEFS_DEV_DATABASE",
    "LITEFS_MOUNT_PATH",
    "LITEFS_DATA_PATH",
    "LITEFS_DATABASE",
    "LITEFS_NODE_ID",
    "LITEFS_LEADER_ELECTION",
    "LITEFS_PRIMARY_HOSTNAME",
    "LITEFS_PRIMARY_URL",
    "LITEFS_HTTP_ADDR",
    "LITEFS_ADVERTISE_URL",
    "LITEFS_PROXY_ADDR",
    "LITEFS_PROXY_TARGET",
    "LITEFS_PROXY_MAX_LAG",
    "LITEFS_RETENTION",
    "LITEFS_RAFT_SELF_ADDR",
    "LITEFS_RAFT_PEERS",
    "LITEFS_RAFT_LEASE_PORT",
    "LITEFS_RAFT_SECRET",
    "LITEFS_RAFT_LEASE_TOKEN",
    "LITEFS_RAFT_DATA_DIR",
    "LITEFS_RAFT_BOOTSTRAP",
    "LITEFS_EXEC",
  ];

  it("lists every agreed env variable once, each with a setting, default and description", () => {
    const envs = SETTINGS_REFERENCE.map((r) => r.env);
    for (const env of requiredEnv) expect(envs).toContain(env);
    expect(new Set(envs).size).toBe(envs.length);
    for (const row of SETTINGS_REFERENCE) {
      expect(row.setting).toMatch(/^[a-z][A-Za-z]*(\.[a-z][A-Za-z]*)?$/);
      expect(row.default.length).toBeGreaterThan(0);
      expect(row.description.length).toBeGreaterThan(10);
    }
  });

  it("every row's variable really feeds its setting", () => {
    const s = loadSettings(undefined, {
      LITEFS_NODE_ID: "node-a",
      LITEFS_LEADER_ELECTION: "raft",
      LITEFS_RAFT_SELF_ADDR: "node-a:4001",
      LITEFS_RAFT_PEERS: "node-b:4001",
      LITEFS_RAFT_SECRET: "0123456789abcdef",
      LITEFS_PROXY_TARGET: "localhost:3000",
    });
    const consul = loadSettings(undefined, {
      LITEFS_LEADER_ELECTION: "consul",
      LITEFS_CONSUL_URL: "http://consul:8500",
    });
    const read = (setting: string): unknown =>
      setting
        .split(".")
        .reduce<unknown>(
          (node, key) => (node as Record<string, unknown>)[key],
          setting.startsWith("consul.") ? consul : s,
        );
    for (const row of SETTINGS_REFERENCE) expect(read(row.setting), row.setting).not.toBeUndefined();
  });
});
