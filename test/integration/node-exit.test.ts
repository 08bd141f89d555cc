// close() leaves nothing behind: a child process that opens a node and closes it must exit on
// its own (no timers, sockets or retries keeping the event loop alive).
import { afterEach, describe, expect, it } from "vitest";
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { startEventsServer, type EventsServer } from "../support/events-server.js";
import { createTempMount, type TempMount } from "../support/litefs-mount.js";

const ROOT = resolve(import.meta.dirname, "..", "..");
const url = (p: string): string => pathToFileURL(join(ROOT, p)).href;

let server: EventsServer | undefined;
let mount: TempMount | undefined;
let scratch: string | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
  mount?.cleanup();
  mount = undefined;
  if (scratch) rmSync(scratch, { recursive: true, force: true });
  scratch = undefined;
});

function runChild(httpAddr: string, mountPath: string, body: string): Promise<{ code: number | null; stdout: string; stderr: string; killed: boolean }> {
  scratch = mkdtempSync(join(tmpdir(), "litefs-node-exit-"));
  const script = join(scratch, "child.mts");
  writeFileSync(
    script,
    `import { loadSettings } from ${JSON.stringify(url("src/config/index.ts"))};
import { createNode } from ${JSON.stringify(url("src/election/node.ts"))};
const settings = loadSettings({ nodeId: "node-a", primaryHostname: "node-a", mountPath: ${JSON.stringify(mountPath)}, dataPath: "/var/lib/litefs", httpAddr: ${JSON.stringify(httpAddr)} }, {});
const node = await createNode(settings, { readyTimeoutMs: 300, pollIntervalMs: 10, backoff: { initialMs: 50, maxMs: 50 } });
${body}
await node.close();
console.log("closed");
`,
  );
  return new Promise((resolvePromise) => {
    const child = spawn(process.execPath, ["--import", "tsx", script], {
      cwd: ROOT,
      stdio: ["ignore", "pipe", "pipe"],
      // The default logger (pino to stderr) is in use; keep it quiet so stderr shows only failures.
      env: { ...process.env, LITEFS_LOG_LEVEL: "silent" },
    });
    let stdout = "";
    let stderr = "";
    let killed = false;
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    // The child must be gone well within this; if not, something was left running.
    const guard = setTimeout(() => {
      killed = true;
      child.kill("SIGKILL");
    }, 10_000);
    child.on("exit", (code) => {
      clearTimeout(guard);
      resolvePromise({ code, stdout, stderr, killed });
    });
  });
}

describe("close() leaves the event loop empty", () => {
  it("after a connected /events stream", async () => {
    server = await startEventsServer({ fixture: "primary" });
    mount = createTempMount({ role: "primary" });
    const result = await runChild(`127.0.0.1:${server.port}`, mount.path, `if (node.source !== "events") throw new Error("expected events, got " + node.source); node.gate.assertWritable();`);
    expect(result.stderr).toBe("");
    expect(result).toMatchObject({ code: 0, killed: false });
    expect(result.stdout).toContain("closed");
  });

  it("while retrying an unreachable API, with the file poll running", async () => {
    mount = createTempMount({ role: "replica" });
    const result = await runChild("127.0.0.1:1", mount.path, `if (node.source !== "files") throw new Error("expected files"); await new Promise((r) => setTimeout(r, 120));`);
    expect(result.stderr).toBe("");
    expect(result).toMatchObject({ code: 0, killed: false });
  });
});
