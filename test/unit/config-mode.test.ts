// The default of `enabled` (src/config/mode.ts): dev mode on a laptop with nothing configured,
// LiteFS mode as soon as any LiteFS setting is given, and never a silent local file in production.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ConfigError } from "../../src/errors.js";
import { loadSettings, SETTINGS_REFERENCE } from "../../src/config/index.js";

function configError(run: () => unknown): ConfigError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error("expected a ConfigError");
}

// Settings that apply to dev mode too; every other row of the table is LiteFS-only.
const BOTH_MODES = ["enabled", "devDatabasePath", "databaseName"];
const liteFSOnlyEnv = SETTINGS_REFERENCE.filter((row) => !BOTH_MODES.includes(row.setting));
// A value each variable's text parser accepts (a value the schema then rejects still counts as given).
const SAMPLE_TEXT = {
  boolean: "true",
  port: "8500",
  list: "node-b:4001",
  string: "node-a",
  "boolean-or-comparison": "true",
} as const;

describe("the default of enabled", () => {
  it("is dev mode when nothing is configured outside production", () => {
    expect(loadSettings({}, {}).enabled).toBe(false);
    expect(loadSettings(undefined, { NODE_ENV: "development" }).enabled).toBe(false);
    expect(
      loadSettings({}, { NODE_ENV: "test", LITEFS_DATABASE: "app.db", LITEFS_DEV_DATABASE: "x/app.db" }),
    ).toMatchObject({
      enabled: false,
      databaseName: "app.db",
    });
  });

  it("refuses to fall back to a local file under NODE_ENV=production", () => {
    const error = configError(() => loadSettings({}, { NODE_ENV: "production" }));
    expect(error.issues).toHaveLength(1);
    expect(error.issues[0]).toMatchObject({ setting: "enabled", env: "LITEFS_ENABLED" });
    expect(error.message).toContain('NODE_ENV is "production"');
    expect(error.message).toContain("LITEFS_NODE_ID");
    expect(error.message).toContain("LITEFS_ENABLED=false");
    // Dev-mode-only settings do not count as configuring LiteFS.
    configError(() =>
      loadSettings({ devDatabasePath: "./app.db" }, { NODE_ENV: "production", LITEFS_DATABASE: "app.db" }),
    );
  });

  it("gives dev mode in production only when asked for explicitly", () => {
    expect(loadSettings({}, { NODE_ENV: "production", LITEFS_ENABLED: "false" }).enabled).toBe(false);
    expect(loadSettings({ enabled: false }, { NODE_ENV: "production" }).enabled).toBe(false);
  });

  it("is LiteFS mode when a LiteFS setting comes from code", () => {
    expect(loadSettings({ nodeId: "node-a", primaryHostname: "node-a" }, {}).enabled).toBe(true);
    const error = configError(() => loadSettings({ mountPath: "/litefs" }, {}));
    expect(error.issues.map((i) => i.setting)).toContain("nodeId");
  });

  it("is never dev mode when any LiteFS-only variable is set, whatever NODE_ENV says", () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...liteFSOnlyEnv),
        fc.constantFrom(undefined, "production", "development"),
        (row, nodeEnv) => {
          const env: NodeJS.ProcessEnv = { [row.env]: SAMPLE_TEXT[row.kind] };
          if (nodeEnv !== undefined) env["NODE_ENV"] = nodeEnv;
          try {
            expect(loadSettings({}, env).enabled).toBe(true);
          } catch (error) {
            // Incomplete LiteFS settings are reported as such, never answered with a local file.
            expect(error).toBeInstanceOf(ConfigError);
            expect(
              (error as ConfigError).issues.some((i) => i.setting === "enabled" && i.message.includes("NODE_ENV")),
            ).toBe(false);
          }
        },
      ),
    );
  });
});
