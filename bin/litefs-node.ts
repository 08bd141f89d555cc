#!/usr/bin/env node
// The `litefs-node` command: a thin dispatcher. Every command lives in bin/commands/ and calls src/.
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { closestCommand } from "./commands/suggest.js";
import { COMMANDS, DEPRECATED_COMMANDS, USAGE } from "./commands/index.js";

function packageVersion(): string {
  // Works from both bin/ (tsx) and dist/bin/ (built): walk up to our package.json.
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 4; i++) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as { name?: string; version?: string };
      if (pkg.name === "litefs-node" && pkg.version) return pkg.version;
    } catch {
      // not here: keep walking up
    }
    dir = dirname(dir);
  }
  return "unknown";
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === "--help" || name === "-h" || name === "help") {
    process.stdout.write(USAGE);
    return name === undefined ? 2 : 0;
  }
  if (name === "--version" || name === "-v") {
    process.stdout.write(`litefs-node ${packageVersion()}\n`);
    return 0;
  }
  const renamed = Object.hasOwn(DEPRECATED_COMMANDS, name) ? DEPRECATED_COMMANDS[name] : undefined;
  if (renamed !== undefined) {
    process.stderr.write(
      `litefs-node: "${name}" is deprecated and will be removed; it runs "litefs-node ${renamed}" (same options and settings)\n`,
    );
    return COMMANDS[renamed]!(rest);
  }
  const command = COMMANDS[name];
  if (!command) {
    // A typo of an old name (e.g. "prox") points at the command's current name.
    const closest = closestCommand(name, [...Object.keys(COMMANDS), ...Object.keys(DEPRECATED_COMMANDS)]);
    const guess =
      closest !== null && Object.hasOwn(DEPRECATED_COMMANDS, closest) ? DEPRECATED_COMMANDS[closest] : closest;
    process.stderr.write(
      `litefs-node: unknown command "${name}"${guess ? `; did you mean "${guess}"?` : ""}\nRun "litefs-node --help" for usage.\n`,
    );
    return 2;
  }
  return command(rest);
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`litefs-node: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  },
);
