// close() leaves nothing behind: a child process that opens a node and closes it must exit on
// its own (no timers, sockets or retries keeping the event loop alive).
import { afterEach, describe, expect, it, vi } from "vitest";
import { runChildScript, sourceUrl, type ChildScriptResult } from "../support/child-script.js";
import { startEventsServer, type EventsServer } from "../support/events-server.js";
import { createTempMount, type TempMount } from "../support/litefs-mount.js";

// Each child is killed after 45 s (test/support/child-script.ts); a healthy one exits in 1 to 3 s
// on a quiet machine (about 20 s was measured at load average 30).
vi.setConfig({ testTimeout: 90_000 });

let server: EventsServer | undefined;
let mount: TempMount | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
  mount?.cleanup();
  mount = undefined;
});

function runChild(httpAddr: string, mountPath: string, body: string): Promise<ChildScriptResult> {
  return runChildScript(`import { loadSettings } from ${sourceUrl("src/config/index.ts")};
import { createNode } from ${sourceUrl("src/node/node.ts")};
const settings = loadSettings({ nodeId: "node-a", primaryHostname: "node-a", mountPath: ${JSON.stringify(mountPath)}, dataPath: "/var/lib/litefs", httpAddr: ${JSON.stringify(httpAddr)} }, {});
const node = await createNode(settings, { readyTimeoutMs: 3000, pollIntervalMs: 10, backoff: { initialMs: 50, maxMs: 50 } });
${body}
await node.close();
console.log("closed");
`);
}

describe("close() leaves the event loop empty", () => {
  it("after a connected /events stream", async () => {
    server = await startEventsServer({ fixture: "primary" });
    mount = createTempMount({ role: "primary" });
    const result = await runChild(
      `127.0.0.1:${server.port}`,
      mount.path,
      `if (node.source !== "events") throw new Error("expected events, got " + node.source); node.gate.assertWritable();`,
    );
    expect(result.stderr).toBe("");
    expect(result).toMatchObject({ code: 0, killed: false });
    expect(result.stdout).toContain("closed");
  });

  it("while retrying an unreachable API, with the file poll running", async () => {
    mount = createTempMount({ role: "replica" });
    const result = await runChild(
      "127.0.0.1:1",
      mount.path,
      `if (node.source !== "files") throw new Error("expected files"); await new Promise((r) => setTimeout(r, 120));`,
    );
    expect(result.stderr).toBe("");
    expect(result).toMatchObject({ code: 0, killed: false });
  });
});

// Issue 14 item 4: a script that forgets $close() must still exit. The stand-in /events server
// lives in this (the test) process, so it cannot be what keeps the child alive or lets it go.
describe("a script that never closes still exits", () => {
  const liteFSEnv = (m: TempMount, httpAddr: string, nodeId = "node-a"): NodeJS.ProcessEnv => ({
    LITEFS_NODE_ID: nodeId,
    LITEFS_PRIMARY_HOSTNAME: "node-a",
    LITEFS_MOUNT_PATH: m.path,
    LITEFS_DATA_PATH: `${m.path}-data`,
    LITEFS_DATABASE: m.databaseName,
    LITEFS_HTTP_ADDR: httpAddr,
  });

  it("drizzle() in LiteFS mode with the /events stream open", async () => {
    server = await startEventsServer({ fixture: "primary" });
    mount = createTempMount({ role: "primary" });
    const result = await runChildScript(
      `import { drizzle } from ${sourceUrl("src/driver/drizzle/index.ts")};
const db = drizzle();
await db.$node.ready;
if (db.$node.source !== "events") throw new Error("expected the events stream, got " + db.$node.source);
db.$client.exec("CREATE TABLE IF NOT EXISTS t(a)");
db.$client.prepare("INSERT INTO t VALUES (1)").run();
console.log("wrote; no $close()");
`,
      { env: liteFSEnv(mount, `127.0.0.1:${server.port}`) },
    );
    expect(result.stderr).toBe("");
    expect(result).toMatchObject({ code: 0, killed: false });
    expect(result.stdout).toContain("wrote; no $close()");
    expect(server.eventsRequests).toBeGreaterThanOrEqual(1);
  });

  it("a node retrying an unreachable LiteFS API", async () => {
    mount = createTempMount({ role: "replica" });
    const result = await runChildScript(
      `import { loadSettings } from ${sourceUrl("src/config/index.ts")};
import { openNode } from ${sourceUrl("src/node/node.ts")};
const node = openNode(loadSettings(), { pollIntervalMs: 10, backoff: { initialMs: 20, maxMs: 50 } });
await new Promise((r) => setTimeout(r, 200)); // a few reconnect attempts and polls happen
console.log("role", node.role);
`,
      { env: liteFSEnv(mount, "127.0.0.1:1", "node-b") },
    );
    expect(result.stderr).toBe("");
    expect(result).toMatchObject({ code: 0, killed: false });
    expect(result.stdout).toContain("role replica");
  });

  it("but `await node.ready` is not cut short: it waits for init or the ready timeout", async () => {
    // A LiteFS API that accepts the stream and sends nothing: only the ready timeout ends the wait.
    server = await startEventsServer({ stream: "" });
    mount = createTempMount({ role: "primary" });
    const result = await runChildScript(
      `import { loadSettings } from ${sourceUrl("src/config/index.ts")};
import { createNode } from ${sourceUrl("src/node/node.ts")};
const started = Date.now();
await createNode(loadSettings(), { readyTimeoutMs: 1000 });
console.log("ready after", Date.now() - started);
`,
      { env: liteFSEnv(mount, `127.0.0.1:${server.port}`) },
    );
    expect(result.stderr).toBe("");
    expect(result).toMatchObject({ code: 0, killed: false });
    const waited = Number(/ready after (\d+)/.exec(result.stdout)?.[1]);
    expect(waited).toBeGreaterThanOrEqual(990);
  });
});
