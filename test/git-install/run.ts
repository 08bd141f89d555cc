// `npm run test:git-install`: the real `npm install git+file://<this repository>` into a scratch
// project, then a script using the installed package (settings, node, guarded driver, CLI).
// npm clones the committed HEAD, installs every dependency including devDependencies (TypeScript
// for the `prepare` build) and compiles better-sqlite3 where no prebuilt binary can be downloaded,
// so this takes minutes (an hour on a loaded machine without network); `npm test` covers the same
// path in seconds (test/integration/git-install.test.ts). Exit code 0 when everything worked.
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const ROOT = join(import.meta.dirname, "..", "..");

// Uses only the package root: dev mode (nothing configured), a guarded database, a write and a read.
const SCRIPT = `import { loadSettings, openGuardedDatabase, openNode } from "litefs-node";
const settings = loadSettings();
if (settings.enabled) throw new Error("expected dev mode");
const node = openNode(settings);
const db = openGuardedDatabase(settings, node);
db.exec("CREATE TABLE IF NOT EXISTS t (id INTEGER PRIMARY KEY, v TEXT)");
db.prepare("INSERT INTO t (v) VALUES (?)").run("hello from a git install");
console.log(db.prepare("SELECT v FROM t").get().v);
db.close();
await node.close();
`;

function step(what: string, command: string, args: string[], cwd: string): string {
  const started = performance.now();
  const inherited = Object.entries(process.env).filter(([key]) => !key.startsWith("LITEFS_") && key !== "NODE_ENV");
  const env: NodeJS.ProcessEnv = {
    ...Object.fromEntries(inherited),
    npm_config_update_notifier: "false",
    npm_config_fund: "false",
  };
  const r = spawnSync(command, args, { cwd, env, encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] });
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  if (r.status !== 0) throw new Error(`${what} failed (exit ${r.status}, ${seconds} s):\n${r.stdout}`);
  console.log(`ok  ${what} (${seconds} s)`);
  return r.stdout;
}

const scratch = mkdtempSync(join(tmpdir(), "litefs-node-git-install-"));
try {
  writeFileSync(
    join(scratch, "package.json"),
    JSON.stringify({ name: "git-install-check", private: true, type: "module" }),
  );
  writeFileSync(join(scratch, "main.js"), SCRIPT);
  step("npm install git+file://" + ROOT, "npm", ["install", "--no-audit", `git+file://${ROOT}`], scratch);
  const out = step("node main.js", process.execPath, ["main.js"], scratch);
  if (out.trim() !== "hello from a git install") throw new Error(`unexpected output: ${out}`);
  step("npx litefs-node check", "npx", ["--no-install", "litefs-node", "check"], scratch);
  console.log("git install works");
} finally {
  rmSync(scratch, { recursive: true, force: true });
}
