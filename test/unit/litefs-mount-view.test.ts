import { afterEach, describe, expect, it } from "vitest";
import { ConfigError } from "../../src/errors.js";
import { createDefaultLogger } from "../../src/logger.js";
import { createMountViewReader } from "../../src/litefs/mount-view.js";
import { NO_PRIMARY_VIEW, PRIMARY_VIEW } from "../../src/litefs/view.js";
import { createTempMount, type TempMount } from "../support/litefs-mount.js";

let mount: TempMount | undefined;
afterEach(() => {
  mount?.cleanup();
  mount = undefined;
});

describe("mount view reader (the gate's file fallback)", () => {
  it("maps the three LiteFS layouts and no mount", () => {
    mount = createTempMount({ role: "primary" });
    const read = createMountViewReader(mount.path);
    expect(read()).toBe(PRIMARY_VIEW);
    mount.setReplica({ primary: "node-a" });
    expect(read()).toEqual({ kind: "replica", primary: "node-a" });
    mount.setReplicaLostPrimary({ lagMs: 2147483647 });
    expect(read()).toBe(NO_PRIMARY_VIEW);
    mount.setReplicaLostPrimary({ lagMs: -5 });
    expect(read()).toBe(NO_PRIMARY_VIEW);
    mount.remove();
    expect(read()).toMatchObject({ kind: "unknown", detail: expect.stringMatching(/no LiteFS mount/) });
  });

  it("reuses one object while the primary's hostname is unchanged (no allocation per write)", () => {
    mount = createTempMount({ role: "replica", primary: "node-a" });
    const read = createMountViewReader(mount.path);
    const first = read();
    expect(read()).toBe(first);
    mount.setReplica({ primary: "node-c" });
    const third = read();
    expect(third).not.toBe(first);
    expect(third).toEqual({ kind: "replica", primary: "node-c" });
  });

  it("trims the hostname and rejects an oversized .primary", () => {
    mount = createTempMount({ role: "replica" });
    const read = createMountViewReader(mount.path);
    mount.writeRaw(".primary", "  node-b \r\n");
    expect(read()).toEqual({ kind: "replica", primary: "node-b" });
    mount.writeRaw(".primary", "n".repeat(1000));
    expect(read()).toMatchObject({ kind: "unknown" });
  });
});

describe("default logger", () => {
  it("takes its level from LITEFS_LOG_LEVEL, silent under NODE_ENV=test, info otherwise", () => {
    expect(createDefaultLogger({ LITEFS_LOG_LEVEL: "debug" }).level).toBe("debug");
    expect(createDefaultLogger({ NODE_ENV: "test" }).level).toBe("silent");
    expect(createDefaultLogger({}).level).toBe("info");
  });

  it("rejects an unknown level naming the variable", () => {
    expect(() => createDefaultLogger({ LITEFS_LOG_LEVEL: "loud" })).toThrow(ConfigError);
    expect(() => createDefaultLogger({ LITEFS_LOG_LEVEL: "loud" })).toThrow(
      /LITEFS_LOG_LEVEL.*unknown log level "loud"/s,
    );
  });
});
