// `litefs-node forward` as a real child process: forwards a write from a replica, serves health
// and metrics, exits 0 on SIGTERM; bad settings exit non-zero naming the variable.
import { spawn, type ChildProcess } from "node:child_process";
import { rmSync } from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import { startEventsServer } from "../support/events-server.js";
import { replicaProxyEnv } from "../support/forward-fixtures.js";
import { createTempMount } from "../support/litefs-mount.js";
import { writeLeaderLeaseState } from "../support/lease/published-state-fixture.js";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const BIN = join(ROOT, "bin", "litefs-node.ts");

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

interface Run {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  exited: Promise<number | null>;
}

function run(args: string[], env: NodeJS.ProcessEnv): Run {
  const child = spawn(process.execPath, ["--import", "tsx", BIN, ...args], {
    cwd: ROOT,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, NODE_ENV: "test", LITEFS_LOG_LEVEL: "silent", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  let err = "";
  child.stdout?.on("data", (d: Buffer) => (out += d.toString()));
  child.stderr?.on("data", (d: Buffer) => (err += d.toString()));
  // Bounded lifetime: never outlive the test.
  const killer = setTimeout(() => child.kill("SIGKILL"), 20_000);
  const exited = new Promise<number | null>((resolve) =>
    child.on("exit", (code) => {
      clearTimeout(killer);
      resolve(code);
    }),
  );
  cleanups.push(async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    await exited;
  });
  return { child, stdout: () => out, stderr: () => err, exited };
}

function waitForOutput(r: Run, pattern: RegExp, timeoutMs = 15_000): Promise<RegExpMatchArray> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const tick = (): void => {
      const m = pattern.exec(r.stdout());
      if (m) return resolve(m);
      if (r.child.exitCode !== null) return reject(new Error(`exited ${r.child.exitCode}: ${r.stderr()}`));
      if (Date.now() - started > timeoutMs)
        return reject(new Error(`no ${pattern} within ${timeoutMs} ms; stderr: ${r.stderr()}`));
      setTimeout(tick, 20);
    };
    tick();
  });
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  return Promise.race([
    p,
    new Promise<T>((_, reject) => setTimeout(() => reject(new Error(`${what} took over ${ms} ms`)), ms)),
  ]);
}

async function startApp(name: string): Promise<{ url: string; writes: string[] }> {
  const writes: string[] = [];
  const server = http.createServer((req, res) => {
    let body = "";
    req.on("data", (c: Buffer) => (body += c.toString()));
    req.on("end", () => {
      if (req.method !== "GET") writes.push(body);
      res.writeHead(req.method === "GET" ? 200 : 201, { "x-app": name }).end(name);
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  cleanups.push(
    () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  );
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, writes };
}

const request = (url: string, init: RequestInit = {}): Promise<Response> =>
  fetch(url, { ...init, signal: AbortSignal.timeout(8000) });

describe("litefs-node forward", () => {
  it("forwards a replica's write to the primary, serves health/metrics, and stops cleanly on SIGTERM", async () => {
    const mount = createTempMount({ role: "replica", primary: "node-a" });
    cleanups.push(() => mount.cleanup());
    const events = await startEventsServer({ fixture: "replica" });
    cleanups.push(() => events.close());
    const appA = await startApp("a");
    const appB = await startApp("b");
    const r = run(["forward", "--listen", "127.0.0.1:0"], replicaProxyEnv(mount.path, events.port, appB.url, appA.url));
    const [, url] = await waitForOutput(
      r,
      /listening on (http:\/\/127\.0\.0\.1:\d+) -> app .*node node-b is replica, primary node-a/,
    );

    const write = await request(`${url}/items`, { method: "POST", body: "from-cli" });
    expect(write.status).toBe(201);
    expect(await write.text()).toBe("a");
    expect(appA.writes).toEqual(["from-cli"]);
    expect(appB.writes).toEqual([]);
    expect(await (await request(`${url}/items`)).text()).toBe("b");

    const health = await request(`${url}/litefs-node/health`);
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({
      role: "replica",
      primary: "node-a",
      txid: "0000000000000004",
      splitBrain: false,
    });
    const metrics = await (await request(`${url}/litefs-node/metrics`)).text();
    expect(metrics).toMatch(/^litefs_node_forwarded_requests_total\{outcome="forwarded"\} 1$/m);
    expect(metrics).toMatch(/^litefs_node_role\{role="replica"\} 1$/m);

    r.child.kill("SIGTERM");
    expect(await withTimeout(r.exited, 10_000, "shutdown")).toBe(0);
    expect(r.stdout()).toMatch(/stopped \(SIGTERM\)/);
  });

  it("raft mode: health and metrics carry the lease service's term, leader and lease holder", async () => {
    const mount = createTempMount({ role: "primary" });
    cleanups.push(() => mount.cleanup());
    const statePath = writeLeaderLeaseState(mount.path);
    cleanups.push(() => rmSync(statePath, { force: true }));
    const events = await startEventsServer({ fixture: "primary" });
    cleanups.push(() => events.close());
    const app = await startApp("b");
    const r = run(["forward", "--listen", "127.0.0.1:0"], {
      LITEFS_MOUNT_PATH: mount.path,
      LITEFS_DATA_PATH: `${mount.path}-data`,
      LITEFS_DATABASE: "db",
      LITEFS_NODE_ID: "node-b",
      LITEFS_LEADER_ELECTION: "raft",
      LITEFS_RAFT_SELF_ADDR: "node-b:7000",
      LITEFS_RAFT_PEERS: "node-a:7000,node-c:7000",
      LITEFS_RAFT_SECRET: "0123456789abcdef",
      LITEFS_HTTP_ADDR: `127.0.0.1:${events.port}`,
      LITEFS_FORWARD_UPSTREAM: app.url,
      LITEFS_FORWARD_TARGET: "http://{host}:8080",
    });
    const [, url] = await waitForOutput(r, /listening on (http:\/\/127\.0\.0\.1:\d+) -> app .*node node-b is primary/);
    const health = await request(`${url}/litefs-node/health`);
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({ role: "primary", splitBrain: false });
    const metrics = await (await request(`${url}/litefs-node/metrics`)).text();
    expect(metrics).toMatch(/^litefs_node_raft_term 7$/m);
    expect(metrics).toMatch(/^litefs_node_raft_lease_holder\{holder="node-b"\} 1$/m);
    r.child.kill("SIGTERM");
    expect(await withTimeout(r.exited, 10_000, "shutdown")).toBe(0);
  });

  it("--help prints the usage and exits 0", async () => {
    const r = run(["forward", "--help"], {});
    expect(await withTimeout(r.exited, 15_000, "--help")).toBe(0);
    expect(r.stdout()).toMatch(/Usage: litefs-node forward/);
    expect(r.stdout()).toMatch(/LITEFS_FORWARD_TARGET/);
    expect(r.stderr()).toBe("");
  });

  it('the old name "proxy" still runs it, after one warning line naming "forward"', async () => {
    const r = run(["proxy", "--help"], {});
    expect(await withTimeout(r.exited, 15_000, "proxy --help")).toBe(0);
    expect(r.stdout()).toMatch(/Usage: litefs-node forward/);
    const warning = r.stderr().trim().split("\n");
    expect(warning).toHaveLength(1);
    expect(warning[0]).toMatch(/"proxy" is deprecated .* "litefs-node forward"/);
  });

  it("missing settings: non-zero exit naming the variables", async () => {
    const r = run(["forward"], {});
    expect(await withTimeout(r.exited, 15_000, "bad settings")).toBe(1);
    expect(r.stderr()).toMatch(/forward\.upstream \(LITEFS_FORWARD_UPSTREAM\)/);
    expect(r.stderr()).toMatch(/LITEFS_FORWARD_TARGET/);
  });
});
