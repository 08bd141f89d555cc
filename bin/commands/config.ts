// `litefs-node config [--out FILE]`: render litefs.yml from the settings.
import { chmodSync, writeFileSync } from "node:fs";
import { loadSettings, renderLitefsConfig } from "../../src/config/index.js";
import { ConfigError } from "../../src/errors.js";
import { devModeReason } from "../../src/config/mode.js";
import { existingLeaseToken, leaseTokenPath } from "../../src/lease/token.js";
import { fail, parseCommandArgs } from "./args.js";

const HELP = `Usage: litefs-node config [--out FILE]

Renders the litefs.yml that LiteFS v0.5.14 accepts, from LITEFS_* environment variables.
Writes to stdout, or to FILE (mode 0600) with --out.
Raft mode: lease.consul.url carries this node's lease token (LITEFS_RAFT_LEASE_TOKEN, or the one
\`litefs-node lease-server\` made at its first start in <raft.dataDir>/lease-token).
`;

export async function configCommand(argv: string[]): Promise<number> {
  const parsed = parseCommandArgs(argv, { out: { type: "string" } }, HELP);
  if (typeof parsed === "number") return parsed;
  const settings = loadSettings();
  if (!settings.enabled)
    return fail(
      `${devModeReason(process.env)}; there is no LiteFS to configure (set LITEFS_NODE_ID and the cluster settings, see README "Settings")`,
    );
  let leaseToken: string | null = null;
  if (settings.raft !== null) {
    try {
      leaseToken = existingLeaseToken(settings.raft)?.token ?? null;
    } catch (e) {
      if (e instanceof ConfigError) return fail(e.message);
      throw e;
    }
    if (leaseToken === null) {
      process.stderr.write(
        `note: lease.consul.url has no token yet, and the lease service refuses requests without one: start \`litefs-node lease-server\` once ` +
          `(it makes ${leaseTokenPath(settings.raft)}) or set LITEFS_RAFT_LEASE_TOKEN, then render again\n`,
      );
    }
  }
  const yaml = renderLitefsConfig(settings, { leaseToken });
  if (parsed.values.out) {
    writeFileSync(parsed.values.out, yaml, { mode: 0o600 });
    chmodSync(parsed.values.out, 0o600);
    process.stderr.write(`wrote ${parsed.values.out}\n`);
  } else {
    process.stdout.write(yaml);
  }
  return 0;
}
