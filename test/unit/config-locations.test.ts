import { describe, expect, it } from "vitest";
import { databasePath, goDurationToMs, litefsApiUrl, loadSettings } from "../../src/config/index.js";

const node = { nodeId: "node-a", primaryHostname: "node-a" };

describe("litefsApiUrl", () => {
  it.each([
    [":20202", "http://127.0.0.1:20202"],
    ["0.0.0.0:20202", "http://127.0.0.1:20202"],
    ["[::]:20202", "http://127.0.0.1:20202"],
    ["127.0.0.1:20203", "http://127.0.0.1:20203"],
    ["10.1.2.3:4000", "http://10.1.2.3:4000"],
    ["localhost:20202", "http://localhost:20202"],
    ["[::1]:20202", "http://[::1]:20202"],
  ])("httpAddr %j -> %s", (httpAddr, url) => {
    expect(litefsApiUrl(loadSettings({ ...node, httpAddr }, {}))).toBe(url);
  });
});

describe("databasePath", () => {
  it("is inside the mount when enabled", () => {
    expect(databasePath(loadSettings({ ...node, mountPath: "/litefs", databaseName: "app.db" }, {}))).toBe(
      "/litefs/app.db",
    );
  });

  it("is the dev database in dev mode", () => {
    const s = loadSettings({ enabled: false, devDatabasePath: "/tmp/dev/app.db" }, {});
    expect(databasePath(s)).toBe("/tmp/dev/app.db");
  });
});

describe("goDurationToMs", () => {
  it.each([
    ["0", 0],
    ["1h", 3_600_000],
    ["10s", 10_000],
    ["1h30m", 5_400_000],
    ["500ms", 500],
    ["1.5s", 1500],
    [".5s", 500],
    ["1000us", 1],
    ["2000000ns", 2],
  ])("%s = %d ms", (text, ms) => {
    expect(goDurationToMs(text)).toBe(ms);
  });

  it.each(["", "1", "1 hour", "-1s", "+1s", "1d", "s", "1h-", "3000000h"])("%j is not a usable Go duration", (text) => {
    expect(goDurationToMs(text)).toBeNull();
  });
});
