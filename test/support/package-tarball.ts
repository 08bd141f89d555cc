// What a packed litefs-node must hold, checked on a tarball made from this checkout
// (readme-quickstart) and on one made the way npm builds a git dependency (git-install).
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { expect } from "vitest";

/** dist (every export's code and types), README, LICENSE and package.json; nothing else. */
export function expectPackedFiles(files: readonly string[], packageRoot: string, unpacked: string): void {
  const pkg = JSON.parse(readFileSync(join(packageRoot, "package.json"), "utf8")) as {
    exports: Record<string, { types?: string; default?: string } | string>;
    bin: Record<string, string>;
  };
  for (const target of Object.values(pkg.exports)) {
    if (typeof target === "string") continue;
    expect(files).toContain(target.default!.replace(/^\.\//, ""));
    expect(files).toContain(target.types!.replace(/^\.\//, ""));
  }
  for (const bin of Object.values(pkg.bin)) expect(files).toContain(bin.replace(/^\.\//, ""));
  expect(files).toEqual(expect.arrayContaining(["README.md", "LICENSE", "package.json"]));
  expect(files.filter((f) => !f.startsWith("dist/") && !["README.md", "LICENSE", "package.json"].includes(f))).toEqual(
    [],
  );
  expect(files.filter((f) => /^dist\/(test|bench|examples)\//.test(f))).toEqual([]);
  expect(readFileSync(join(unpacked, "LICENSE"), "utf8")).toContain("MIT License");
}

/** Source maps are shipped only with their sources inside (sourcesContent). */
export function expectSelfContainedSourceMaps(files: readonly string[], unpacked: string): void {
  const maps = files.filter((f) => f.endsWith(".map"));
  expect(maps.length).toBeGreaterThan(0);
  for (const map of maps) {
    const parsed = JSON.parse(readFileSync(join(unpacked, map), "utf8")) as {
      sources: string[];
      sourcesContent?: (string | null)[];
    };
    expect(parsed.sourcesContent?.length, map).toBe(parsed.sources.length);
    expect(
      parsed.sourcesContent!.every((c) => typeof c === "string" && c.length > 0),
      map,
    ).toBe(true);
  }
}
