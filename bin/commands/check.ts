// `litefs-node check`: are the settings valid and is LiteFS mounted where they say? Meant for
// start scripts and probes: one line per check, non-zero exit with a message on any problem.
import { accessSync, constants, existsSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import { ConfigError } from "../../src/errors.js";
import { litefsApiUrl, loadSettings, type LiteFSSettings } from "../../src/config/index.js";
import { createNode } from "../../src/node/node.js";
import { parseCommandArgs } from "./args.js";

const HELP = `Usage: litefs-node check

Validates the LITEFS_* settings and the LiteFS mount (mount directory, LiteFS's .lag file, the
database, this node's role and split brain). WARN lines (e.g. the LiteFS API is unreachable, so
writes take the slow path) do not fail the check. Exit code 0 when everything is fine, 1 otherwise.
`;

interface Finding {
  ok: boolean;
  /** Works, but not as it should (printed as WARN; does not fail the check). */
  warn?: boolean;
  what: string;
}

function checkDevMode(settings: LiteFSSettings): Finding[] {
  const dir = dirname(settings.devDatabasePath);
  const parent = existsSync(dir) ? dir : dirname(dir);
  try {
    accessSync(parent, constants.W_OK);
    return [{ ok: true, what: `dev mode: database ${settings.devDatabasePath} (directory writable)` }];
  } catch {
    return [
      { ok: false, what: `dev mode: cannot write ${parent} for LITEFS_DEV_DATABASE ${settings.devDatabasePath}` },
    ];
  }
}

function checkMount(settings: LiteFSSettings): Finding[] {
  const mount = settings.mountPath;
  if (!existsSync(mount) || !statSync(mount).isDirectory()) {
    return [{ ok: false, what: `mount directory ${mount} (LITEFS_MOUNT_PATH) does not exist: is LiteFS running?` }];
  }
  // LiteFS always shows .lag in its mount (primary and replica): its absence means no FUSE mount.
  if (!existsSync(join(mount, ".lag"))) {
    return [{ ok: false, what: `${mount} is not a LiteFS mount (no .lag file): start LiteFS with fuse.dir: ${mount}` }];
  }
  const db = join(mount, settings.databaseName);
  return [
    { ok: true, what: `LiteFS mount at ${mount}` },
    existsSync(db)
      ? { ok: true, what: `database ${db}` }
      : { ok: true, what: `database ${db} does not exist yet (the primary creates it on first write)` },
  ];
}

export async function checkCommand(argv: string[]): Promise<number> {
  const parsed = parseCommandArgs(argv, {}, HELP);
  if (typeof parsed === "number") return parsed;
  let settings: LiteFSSettings;
  try {
    settings = loadSettings();
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stdout.write(`FAIL ${error.message}\n`);
    return 1;
  }
  const findings: Finding[] = [{ ok: true, what: "settings are valid" }];
  if (!settings.enabled) {
    findings.push(...checkDevMode(settings));
  } else {
    const mount = checkMount(settings);
    findings.push(...mount);
    if (mount.every((f) => f.ok)) {
      const node = await createNode(settings, { readyTimeoutMs: 2000 });
      try {
        if (node.splitBrain)
          findings.push({ ok: false, what: "split brain: LiteFS and the election disagree about the primary" });
        else if (node.primary === null) findings.push({ ok: false, what: "no primary is known to this node" });
        else findings.push({ ok: true, what: `role ${node.role}, primary ${node.primary}` });
        // Without /events the write gate reads LiteFS's mount files (about 0.4 ms through FUSE,
        // reused for at most 50 ms): writes still work, slower, and role changes are seen late.
        if (node.source === "files") {
          findings.push({
            ok: true,
            warn: true,
            what:
              `the LiteFS API at ${litefsApiUrl(settings)} is unreachable (LITEFS_HTTP_ADDR): writes take the slow path ` +
              "(the write gate reads the mount files instead of following /events)",
          });
        }
      } finally {
        await node.close();
      }
    }
  }
  for (const f of findings) process.stdout.write(`${f.ok ? (f.warn ? "WARN" : "ok  ") : "FAIL"} ${f.what}\n`);
  return findings.every((f) => f.ok) ? 0 : 1;
}
