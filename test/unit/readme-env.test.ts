// Every environment variable the code reads is documented in the README: the settings table,
// the forwarding proxy's variables, and the ones read directly (env["..."]) anywhere in src/,
// bin/ or migrations-guard/.
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { SETTINGS_REFERENCE } from "../../src/config/reference.js";
import { FORWARD_ENV } from "../../src/forward/settings.js";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
// Not ours to document.
const SYSTEM = new Set(["PATH"]);

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sources(path);
    return path.endsWith(".ts") ? [path] : [];
  });
}

describe("README documents every environment variable", () => {
  it("read directly, in the settings table or by the forwarding proxy", () => {
    const direct = new Set<string>();
    for (const file of ["src", "bin", "migrations-guard"].flatMap((d) => sources(join(ROOT, d)))) {
      for (const [, name] of readFileSync(file, "utf8").matchAll(
        /env\[["']([A-Z][A-Z0-9_]+)["']\]|process\.env\.([A-Z][A-Z0-9_]+)/g,
      )) {
        if (name) direct.add(name);
      }
    }
    expect(direct.size).toBeGreaterThan(2); // the scan finds what it should
    const all = [...direct, ...SETTINGS_REFERENCE.map((r) => r.env), ...Object.values(FORWARD_ENV)].filter(
      (n) => !SYSTEM.has(n),
    );
    const readme = readFileSync(join(ROOT, "README.md"), "utf8");
    const missing = [...new Set(all)].filter((name) => !new RegExp(`\\b${name}\\b`).test(readme));
    expect(missing).toEqual([]);
  });
});
