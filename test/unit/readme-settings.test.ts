// The README's settings table is the settings reference: they must not drift apart.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { SETTINGS_REFERENCE } from "../../src/config/index.js";

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

  it("opens with the demo and test commands", () => {
    const firstBlock = /```sh\n([\s\S]*?)```/.exec(readme)?.[1] ?? "";
    expect(firstBlock).toContain("npm ci && npm run demo");
    expect(firstBlock).toContain("npm ci && npm test");
  });
});
