// Generates the Prisma 7 test client offline, once: `npm run prisma:generate`, or vitest's
// globalSetup (test/support/global-setup.ts) before a run.
//
// `prisma generate` itself needs no engine, but the CLI insists on finding the native
// schema-engine binary, which is downloaded from a host these machines cannot reach. Pointing
// PRISMA_SCHEMA_ENGINE_BINARY at any executable file satisfies that check.
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
export const prismaSchemaPath = resolve(here, "prisma/schema.prisma");
export const prismaSchemaSqlPath = resolve(here, "prisma/schema.sql");
export const prismaClientDir = resolve(here, "generated/prisma");
const stampPath = join(prismaClientDir, ".litefs-node-stamp");

const GENERATE_TIMEOUT_MS = 120_000;

function prismaCliPath(): string {
  const require = createRequire(import.meta.url);
  return require.resolve("prisma/build/index.js");
}

/** What the generated client depends on: the schema and the CLI version. */
function currentStamp(cli: string): string {
  const pkg = JSON.parse(readFileSync(join(dirname(cli), "..", "package.json"), "utf8")) as { version: string };
  return createHash("sha256").update(readFileSync(prismaSchemaPath)).update(`prisma@${pkg.version}`).digest("hex");
}

/** Generates the test client unless an up-to-date one exists. Returns whether it generated. */
export function ensurePrismaTestClient(options: { force?: boolean } = {}): boolean {
  const cli = prismaCliPath();
  const stamp = currentStamp(cli);
  if (
    !options.force &&
    existsSync(stampPath) &&
    readFileSync(stampPath, "utf8") === stamp &&
    existsSync(join(prismaClientDir, "client.ts"))
  ) {
    return false;
  }
  const scratch = mkdtempSync(join(tmpdir(), "litefs-node-prisma-"));
  try {
    const fakeEngine = join(scratch, "schema-engine");
    writeFileSync(fakeEngine, "#!/bin/sh\nexit 0\n");
    chmodSync(fakeEngine, 0o755);
    const result = spawnSync(process.execPath, [cli, "generate", "--schema", prismaSchemaPath], {
      cwd: scratch, // no prisma.config.ts from anywhere else gets picked up
      env: {
        ...process.env,
        PRISMA_SCHEMA_ENGINE_BINARY: fakeEngine,
        PRISMA_HIDE_UPDATE_MESSAGE: "1",
        CHECKPOINT_DISABLE: "1",
        PRISMA_GENERATE_SKIP_AUTOINSTALL: "1",
      },
      encoding: "utf8",
      timeout: GENERATE_TIMEOUT_MS,
    });
    if (result.status !== 0) {
      throw new Error(
        `prisma generate failed (status ${result.status}${result.error ? `, ${result.error.message}` : ""}):\n${result.stdout}\n${result.stderr}`,
      );
    }
    writeFileSync(stampPath, stamp);
    return true;
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const generated = ensurePrismaTestClient({ force: process.argv.includes("--force") });
  console.log(
    generated ? `generated the Prisma test client in ${prismaClientDir}` : "Prisma test client is up to date",
  );
}
