import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ConfigError } from "../../src/errors.js";
import {
  DEFAULT_BODY_LIMIT_BYTES,
  loadForwardSettings,
  parseByteSize,
  parseDurationMs,
  parseListenAddress,
  primaryAddress,
  resolvePrimaryAddress,
} from "../../src/forward/settings.js";

const base = { LITEFS_FORWARD_UPSTREAM: "http://127.0.0.1:8081", LITEFS_FORWARD_TARGET: "http://{host}:8080" };

function configError(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error("expected a ConfigError");
}

describe("loadForwardSettings", () => {
  it("fills the defaults", () => {
    const s = loadForwardSettings({}, base);
    expect(s).toEqual({
      listen: ":8079",
      upstream: "http://127.0.0.1:8081",
      target: "http://{host}:8080",
      hosts: {},
      bodyLimitBytes: DEFAULT_BODY_LIMIT_BYTES,
      alwaysForward: [],
      rywTimeoutMs: 5000,
      rywTimeoutMode: "504",
      db: null,
      healthMaxLagMs: 10_000,
      maxRequests: 1024,
      bodyBudgetBytes: 64 * 1024 * 1024,
      maxTxidWaits: 256,
      maxUpgrades: 1024,
      trustedProxies: [],
    });
    expect(DEFAULT_BODY_LIMIT_BYTES).toBe(10 * 1024 * 1024);
    expect(Object.isFrozen(s)).toBe(true);
  });

  it("reads every LITEFS_FORWARD_* variable", () => {
    const s = loadForwardSettings(
      {},
      {
        LITEFS_FORWARD_LISTEN: "127.0.0.1:9000",
        LITEFS_FORWARD_UPSTREAM: "http://127.0.0.1:8081/",
        LITEFS_FORWARD_HOSTS: "node-a=http://10.0.0.1:8080, node-b=http://10.0.0.2:8080/",
        LITEFS_FORWARD_BODY_LIMIT: "512KiB",
        LITEFS_FORWARD_ALWAYS: "/jobs/run, /cron",
        LITEFS_FORWARD_RYW_TIMEOUT: "1500ms",
        LITEFS_FORWARD_RYW_MODE: "forward",
        LITEFS_FORWARD_DB: "app.db",
        LITEFS_FORWARD_HEALTH_MAX_LAG: "1m",
        LITEFS_FORWARD_MAX_REQUESTS: "64",
        LITEFS_FORWARD_BODY_BUDGET: "8MiB",
        LITEFS_FORWARD_MAX_TXID_WAITS: "16",
        LITEFS_FORWARD_MAX_UPGRADES: "8",
        LITEFS_FORWARD_TRUSTED_PROXIES: "10.0.0.0/8, ::1, 192.168.1.7",
      },
    );
    expect(s.listen).toBe("127.0.0.1:9000");
    expect(s.upstream).toBe("http://127.0.0.1:8081");
    expect(s.target).toBeNull();
    expect(s.hosts).toEqual({ "node-a": "http://10.0.0.1:8080", "node-b": "http://10.0.0.2:8080" });
    expect(s.bodyLimitBytes).toBe(512 * 1024);
    expect(s.alwaysForward).toEqual(["/jobs/run", "/cron"]);
    expect(s.rywTimeoutMs).toBe(1500);
    expect(s.rywTimeoutMode).toBe("forward");
    expect(s.db).toBe("app.db");
    expect(s.healthMaxLagMs).toBe(60_000);
    expect(s.maxRequests).toBe(64);
    expect(s.bodyBudgetBytes).toBe(8 * 1024 * 1024);
    expect(s.maxTxidWaits).toBe(16);
    expect(s.maxUpgrades).toBe(8);
    expect(s.trustedProxies).toEqual(["10.0.0.0/8", "::1", "192.168.1.7"]);
  });

  it("refuses bad budgets and trusted proxies, naming the variable", () => {
    const error = configError(() =>
      loadForwardSettings(
        {},
        {
          ...base,
          LITEFS_FORWARD_MAX_REQUESTS: "0",
          LITEFS_FORWARD_MAX_TXID_WAITS: "many",
          LITEFS_FORWARD_MAX_UPGRADES: "-3",
          LITEFS_FORWARD_TRUSTED_PROXIES: "10.0.0.0/33,lb.internal",
        },
      ),
    );
    const byEnv = Object.fromEntries(error.issues.map((i) => [i.env, i.message]));
    expect(byEnv["LITEFS_FORWARD_MAX_REQUESTS"]).toMatch(/at least 1/);
    expect(byEnv["LITEFS_FORWARD_MAX_TXID_WAITS"]).toMatch(/whole number/);
    expect(byEnv["LITEFS_FORWARD_MAX_UPGRADES"]).toMatch(/whole number of at least 1/);
    expect(byEnv["LITEFS_FORWARD_TRUSTED_PROXIES"]).toMatch(/IP address or CIDR block.*"10\.0\.0\.0\/33"/);
    const small = configError(() => loadForwardSettings({ bodyLimit: "2MiB", bodyBudget: "1MiB" }, base));
    expect(small.issues[0]?.env).toBe("LITEFS_FORWARD_BODY_BUDGET");
    expect(small.issues[0]?.message).toMatch(/below LITEFS_FORWARD_BODY_LIMIT/);
    // A body limit over the default budget raises the default budget with it.
    expect(loadForwardSettings({ bodyLimit: "100MiB" }, base).bodyBudgetBytes).toBe(100 * 1024 * 1024);
  });

  it("lets explicit input win over env", () => {
    const s = loadForwardSettings(
      { rywTimeout: 250, bodyLimit: 1024, hosts: { x: "http://x:1" } },
      { ...base, LITEFS_FORWARD_RYW_TIMEOUT: "9s" },
    );
    expect(s.rywTimeoutMs).toBe(250);
    expect(s.bodyLimitBytes).toBe(1024);
    expect(s.hosts).toEqual({ x: "http://x:1" });
  });

  it("requires the upstream and a forwarding address, naming setting and env", () => {
    const error = configError(() => loadForwardSettings({}, {}));
    expect(error.issues.map((i) => [i.setting, i.env])).toEqual([
      ["forward.upstream", "LITEFS_FORWARD_UPSTREAM"],
      ["forward.target", "LITEFS_FORWARD_TARGET"],
    ]);
    expect(error.message).toMatch(/LITEFS_FORWARD_HOSTS/);
  });

  it("reports every bad value at once with a message that says what is expected", () => {
    const error = configError(() =>
      loadForwardSettings(
        {},
        {
          LITEFS_FORWARD_UPSTREAM: "127.0.0.1:8081",
          LITEFS_FORWARD_TARGET: "http://primary:8080",
          LITEFS_FORWARD_BODY_LIMIT: "lots",
          LITEFS_FORWARD_RYW_TIMEOUT: "5 parsecs",
          LITEFS_FORWARD_RYW_MODE: "retry",
          LITEFS_FORWARD_ALWAYS: "jobs",
          LITEFS_FORWARD_LISTEN: "localhost:99999",
        },
      ),
    );
    const byEnv = Object.fromEntries(error.issues.map((i) => [i.env, i.message]));
    expect(byEnv["LITEFS_FORWARD_UPSTREAM"]).toMatch(/http:\/\//);
    expect(byEnv["LITEFS_FORWARD_TARGET"]).toMatch(/\{host\}/);
    expect(byEnv["LITEFS_FORWARD_BODY_LIMIT"]).toMatch(/size/);
    expect(byEnv["LITEFS_FORWARD_RYW_TIMEOUT"]).toMatch(/duration/);
    expect(byEnv["LITEFS_FORWARD_RYW_MODE"]).toMatch(/"504" or "forward"/);
    expect(byEnv["LITEFS_FORWARD_ALWAYS"]).toMatch(/start with "\/"/);
    expect(byEnv["LITEFS_FORWARD_LISTEN"]).toMatch(/port/);
    expect(error.message).toMatch(/forward\.bodyLimit \(LITEFS_FORWARD_BODY_LIMIT\)/);
  });

  it("rejects a malformed host map entry", () => {
    const error = configError(() => loadForwardSettings({}, { ...base, LITEFS_FORWARD_HOSTS: "node-a:http://x" }));
    expect(error.issues[0]?.setting).toBe("forward.hosts");
    expect(error.issues[0]?.message).toMatch(/hostname=url/);
    const badUrl = configError(() => loadForwardSettings({}, { ...base, LITEFS_FORWARD_HOSTS: "node-a=ftp://x" }));
    expect(badUrl.issues[0]?.message).toMatch(/"node-a"/);
  });
});

describe("value parsers", () => {
  it("sizes", () => {
    expect(parseByteSize("10MiB")).toBe(10 * 1024 * 1024);
    expect(parseByteSize("1mb")).toBe(1_000_000);
    expect(parseByteSize("2048")).toBe(2048);
    expect(parseByteSize(0)).toBeNull();
    expect(parseByteSize("1 parsec")).toBeNull();
  });

  it("durations", () => {
    expect(parseDurationMs("5s")).toBe(5000);
    expect(parseDurationMs("1m30s")).toBe(90_000);
    expect(parseDurationMs("250")).toBe(250);
    expect(parseDurationMs("1.5s")).toBe(1500);
    expect(parseDurationMs("soon")).toBeNull();
    expect(parseDurationMs(-1)).toBeNull();
  });

  it("durations use the one Go-duration parser: its units work here too, and a unit it lacks is named", () => {
    expect(parseDurationMs("2500us")).toBe(2.5);
    expect(parseDurationMs("1h0m0.5s")).toBe(3_600_500);
    expect(parseDurationMs("2d")).toBeNull();
    const error = configError(() => loadForwardSettings({ rywTimeout: "2d" }, {}));
    expect(error.issues[0]?.message).toMatch(/the unit "d" is not allowed: use ns, us, ms, s, m or h/);
  });

  it("listen addresses", () => {
    expect(parseListenAddress(":8079")).toEqual({ host: undefined, port: 8079 });
    expect(parseListenAddress("127.0.0.1:0")).toEqual({ host: "127.0.0.1", port: 0 });
    expect(parseListenAddress("[::1]:80")).toEqual({ host: "::1", port: 80 });
    expect(parseListenAddress("9000")).toEqual({ host: undefined, port: 9000 });
    expect(() => parseListenAddress("nope")).toThrow(ConfigError);
  });

  it("listen addresses follow the one host:port parser (config/addresses.ts): IPv6 in brackets, host characters checked", () => {
    expect(parseListenAddress(" 0.0.0.0:8079 ")).toEqual({ host: "0.0.0.0", port: 8079 });
    expect(() => parseListenAddress("::1:80")).toThrow(ConfigError);
    expect(() => parseListenAddress("bad host:80")).toThrow(ConfigError);
    expect(() => parseListenAddress(":65536")).toThrow(ConfigError);
    expect(() => parseListenAddress("")).toThrow(ConfigError);
  });

  it("primary addresses: only the map's own keys when a map is set, else the template", () => {
    const settings = { hosts: { "node-a": "http://10.0.0.1:8080" }, target: "http://{host}.internal:8080/" };
    expect(resolvePrimaryAddress(settings, "node-a")).toBe("http://10.0.0.1:8080");
    expect(primaryAddress(settings, "node-b")).toMatchObject({ ok: false, problem: "not-in-map" });
    expect(resolvePrimaryAddress({ hosts: {}, target: "http://{host}.internal:8080/" }, "node-b")).toBe(
      "http://node-b.internal:8080",
    );
    expect(primaryAddress({ hosts: {}, target: null }, "node-b")).toMatchObject({ ok: false, problem: "unconfigured" });
    expect(resolvePrimaryAddress({ hosts: { "node-a": "http://a" }, target: null }, "constructor")).toBeNull();
  });

  it("primary addresses: a {host} that is not a bare node name is refused, whatever the settings", () => {
    const template = { hosts: {}, target: "http://{host}:8080" };
    for (const forged of [
      "127.0.0.1:18099/stolen?",
      "evil.example/x",
      "a@b",
      "node a",
      "",
      "node-a#",
      "[::1]",
      "a..b",
      ".",
    ]) {
      expect(primaryAddress(template, forged)).toMatchObject({ ok: false, problem: "not-a-node-name" });
    }
    fc.assert(
      fc.property(
        fc.oneof(fc.string(), fc.string({ unit: fc.constantFrom(...Array.from("ab1.-_:/?#@[]% ")) })),
        (host) => {
          const result = primaryAddress(template, host);
          if (!result.ok) return true;
          // Whatever passes can only be the URL's host: the template's own port and path stay.
          const url = new URL(result.url);
          return (
            url.port === "8080" &&
            url.pathname === "/" &&
            url.search === "" &&
            url.hash === "" &&
            url.username === "" &&
            url.password === ""
          );
        },
      ),
    );
  });
});
