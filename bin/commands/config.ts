// `litefs-node config [--out FILE]`: render litefs.yml from the settings.
import { writeFileSync } from "node:fs";
import { loadSettings, renderLitefsConfig } from "../../src/config/index.js";
import { fail, parseCommandArgs } from "./args.js";

const HELP = `Usage: litefs-node config [--out FILE]

Renders the litefs.yml that LiteFS v0.5.14 accepts, from LITEFS_* environment variables.
Writes to stdout, or to FILE with --out.
`;

export async function configCommand(argv: string[]): Promise<number> {
  const parsed = parseCommandArgs(argv, { out: { type: "string" } }, HELP);
  if (typeof parsed === "number") return parsed;
  const settings = loadSettings();
  if (!settings.enabled) return fail("LITEFS_ENABLED is false (dev mode): there is no LiteFS to configure");
  const yaml = renderLitefsConfig(settings);
  if (parsed.values.out) {
    writeFileSync(parsed.values.out, yaml);
    process.stderr.write(`wrote ${parsed.values.out}\n`);
  } else {
    process.stdout.write(yaml);
  }
  return 0;
}
