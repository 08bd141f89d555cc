// The README's settings table is the settings reference: they must not drift apart.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { SETTINGS_REFERENCE } from "../../src/config/index.js";
import { FORWARD_ENV } from "../../src/forward/settings.js";

const readme = readFileSync(new URL("../../README.md", import.meta.url), "utf8");

describe("README settings table", () => {
  it("lists every setting with its env name and default", () => {
    for (const r of SETTINGS_REFERENCE) {
      const row = readme.split("\n").find((line) => line.startsWith(`| \`${r.setting}\` |`));
      expect(row, r.setting).toBeDefined();
      expect(row).toContain(`\`${r.env}\``);
      expect(row).toContain(`| ${r.default} |`);
    }
  });

  it("has a table of the write-forwarding proxy's LITEFS_FORWARD_* settings, apart from LiteFS's LITEFS_PROXY_*", () => {
    const lines = readme.split("\n");
    for (const env of Object.values(FORWARD_ENV)) {
      expect(
        lines.some((line) => line.startsWith(`| \`${env}\` |`)),
        env,
      ).toBe(true);
    }
    const prefixes = lines.filter((line) => /^\| `LITEFS_(PROXY|FORWARD)_\*`/.test(line));
    expect(prefixes.find((l) => l.includes("LITEFS_PROXY_*"))).toMatch(/LiteFS's own HTTP proxy/);
    expect(prefixes.find((l) => l.includes("LITEFS_FORWARD_*"))).toMatch(/`litefs-node forward`/);
  });

  it("opens with the demo and test commands", () => {
    const firstBlock = /```sh\n([\s\S]*?)```/.exec(readme)?.[1] ?? "";
    expect(firstBlock).toContain("npm ci && npm run demo");
    expect(firstBlock).toContain("npm ci && npm test");
  });
});
