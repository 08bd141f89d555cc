// `npm run bench` on a fresh clone: the benchmark modules must load before the Prisma test client
// exists (the benchmark generates it, then imports it). A resolve hook makes the client missing.
import { spawnSync } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { describe, expect, it } from "vitest";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const BLOCK_CLIENT = join(ROOT, "test", "support", "fresh-clone", "register.mjs");

function importWithoutClient(module: string): { code: number | null; stderr: string } {
  const url = pathToFileURL(join(ROOT, module)).href;
  const r = spawnSync(
    process.execPath,
    ["--import", "tsx", "--import", BLOCK_CLIENT, "--input-type=module", "-e", `await import(${JSON.stringify(url)});`],
    {
      cwd: ROOT,
      encoding: "utf8",
      timeout: 60_000,
    },
  );
  return { code: r.status, stderr: r.stderr };
}

describe("the benchmark on a fresh clone (no generated Prisma client yet)", () => {
  it("the hook really hides the client", () => {
    const r = importWithoutClient("test/support/prisma/harness.ts");
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/fresh clone has no generated Prisma client/);
  });

  it.each(["bench/prisma.ts", "bench/drizzle.ts"])("%s loads without it", (module) => {
    const r = importWithoutClient(module);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
  });
});
