// Real lease-service processes for tests: N `litefs-node lease-server` children on loopback, each
// with its own temp mount/data dirs and an ephemeral Consul HTTP port. Kill, pause, resume and
// restart them; every wait is bounded and close() SIGKILLs whatever is left.

import { spawn, type ChildProcess } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { net } from "../raft/ports.js";
import { leaseStatePath, readLeaseState, type LeaseStateReading } from "../../../src/lease/published-state.js";
import { httpConsul } from "./consul-client.js";

const MAIN = fileURLToPath(new URL("./lease-server-main.ts", import.meta.url));
const REPO_ROOT = fileURLToPath(new URL("../../..", import.meta.url));
const TEST_SECRET = "lease-test-secret-0123456789";

interface Running {
  readonly child: ChildProcess;
  readonly httpPort: number;
  /** The token the node made at its first start (read from the file its ready line names). */
  readonly token: string;
  readonly exited: Promise<number | null>;
  paused: boolean;
}

export class LeaseProcessCluster {
  readonly root = mkdtempSync(join(tmpdir(), "lease-cluster-"));
  readonly names: string[];
  private raftPorts: number[] = [];
  private readonly running = new Map<number, Running>();
  private readonly started = new Set<number>();
  private readonly stderrs = new Map<number, string>();

  constructor(
    readonly size: number,
    private readonly options: { minTtl?: string; env?: Record<string, string> } = {},
  ) {
    this.names = Array.from({ length: size }, (_, i) => `node-${String.fromCharCode(97 + i)}`);
  }

  async init(): Promise<void> {
    for (let i = 0; i < this.size; i++) this.raftPorts.push(await net.freePort());
  }

  mountPath(i: number): string {
    return join(this.root, this.names[i]!, "mnt");
  }

  statePath(i: number): string {
    return leaseStatePath(this.mountPath(i));
  }

  readState(i: number): LeaseStateReading {
    return readLeaseState(this.statePath(i));
  }

  httpPort(i: number): number {
    const r = this.running.get(i);
    if (!r) throw new Error(`${this.names[i]} is not running`);
    return r.httpPort;
  }

  token(i: number): string {
    const r = this.running.get(i);
    if (!r) throw new Error(`${this.names[i]} is not running`);
    return r.token;
  }

  /** A Consul client for node i, with its token, as that node's LiteFS would call it. */
  consul(i: number, timeoutMs = 5000): ReturnType<typeof httpConsul> {
    return httpConsul({ baseUrl: `http://127.0.0.1:${this.httpPort(i)}`, token: this.token(i), timeoutMs });
  }

  isRunning(i: number): boolean {
    return this.running.has(i);
  }

  isPaused(i: number): boolean {
    return this.running.get(i)?.paused ?? false;
  }

  stderr(i: number): string {
    return this.stderrs.get(i) ?? "";
  }

  env(i: number): Record<string, string> {
    const addr = (k: number) => `127.0.0.1:${this.raftPorts[k]}`;
    const dir = join(this.root, this.names[i]!);
    mkdirSync(join(dir, "mnt"), { recursive: true });
    const env: Record<string, string> = {
      LITEFS_NODE_ID: this.names[i]!,
      LITEFS_LEADER_ELECTION: "raft",
      LITEFS_MOUNT_PATH: this.mountPath(i),
      LITEFS_DATA_PATH: join(dir, "data"),
      LITEFS_RAFT_SELF_ADDR: addr(i),
      LITEFS_RAFT_PEERS: this.raftPorts
        .map((_, k) => k)
        .filter((k) => k !== i)
        .map(addr)
        .join(","),
      LITEFS_RAFT_SECRET: TEST_SECRET,
      LITEFS_LOG_LEVEL: process.env["LEASE_TEST_LOG_LEVEL"] ?? "warn",
      ...(this.options.env ?? {}),
    };
    // First start of the cluster only: storage is refused as missing afterwards unless bootstrapped once.
    if (!this.started.has(i)) env.LITEFS_RAFT_BOOTSTRAP = "true";
    return env;
  }

  async start(i: number): Promise<number> {
    const clean: NodeJS.ProcessEnv = {};
    for (const [k, v] of Object.entries(process.env)) if (!k.startsWith("LITEFS_")) clean[k] = v;
    const args = [
      "--import",
      "tsx",
      MAIN,
      "--http-port",
      "0",
      ...(this.options.minTtl ? ["--min-ttl", this.options.minTtl] : []),
    ];
    const child = spawn(process.execPath, args, {
      cwd: REPO_ROOT,
      env: { ...clean, ...this.env(i) },
      stdio: ["pipe", "pipe", "pipe"],
    });
    this.stderrs.set(i, "");
    child.stderr.on("data", (c: Buffer) => this.stderrs.set(i, (this.stderrs.get(i) ?? "") + c.toString()));
    const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
    const ready = await new Promise<{ httpPort: number; tokenPath: string | null }>((resolve, reject) => {
      let out = "";
      const timer = setTimeout(
        () =>
          reject(
            new Error(
              `${this.names[i]} did not start within 60 s (a loaded machine starts tsx slowly): ${this.stderr(i)}`,
            ),
          ),
        60_000,
      );
      child.stdout.on("data", (c: Buffer) => {
        out += c.toString();
        const line = out.split("\n").find((l) => l.startsWith("{"));
        if (line) {
          clearTimeout(timer);
          resolve(JSON.parse(line) as { httpPort: number; tokenPath: string | null });
        }
      });
      void exited.then((code) => {
        clearTimeout(timer);
        reject(new Error(`${this.names[i]} exited with ${code} before it was ready: ${this.stderr(i)}`));
      });
    });
    const httpPort = ready.httpPort;
    const token =
      ready.tokenPath === null ? this.env(i)["LITEFS_RAFT_LEASE_TOKEN"]! : readFileSync(ready.tokenPath, "utf8").trim();
    this.started.add(i);
    this.running.set(i, { child, httpPort, token, exited, paused: false });
    void exited.then(() => {
      if (this.running.get(i)?.child === child) this.running.delete(i);
    });
    return httpPort;
  }

  async startAll(): Promise<void> {
    await Promise.all(this.names.map((_, i) => this.start(i)));
  }

  async kill(i: number): Promise<void> {
    const r = this.running.get(i);
    if (!r) return;
    if (r.paused) r.child.kill("SIGCONT");
    r.child.kill("SIGKILL");
    await Promise.race([r.exited, new Promise((res) => setTimeout(res, 5000))]);
    this.running.delete(i);
  }

  /** SIGTERM and wait for a clean exit; returns the exit code. */
  async stop(i: number): Promise<number | null> {
    const r = this.running.get(i);
    if (!r) return null;
    r.child.kill("SIGTERM");
    const code = await Promise.race([
      r.exited,
      new Promise<"timeout">((res) => setTimeout(() => res("timeout"), 5000)),
    ]);
    if (code === "timeout") {
      r.child.kill("SIGKILL");
      throw new Error(`${this.names[i]} did not stop within 5 s of SIGTERM`);
    }
    this.running.delete(i);
    return code;
  }

  pause(i: number): void {
    const r = this.running.get(i);
    if (!r) throw new Error(`${this.names[i]} is not running`);
    r.child.kill("SIGSTOP");
    r.paused = true;
  }

  resume(i: number): void {
    const r = this.running.get(i);
    if (!r) throw new Error(`${this.names[i]} is not running`);
    r.child.kill("SIGCONT");
    r.paused = false;
  }

  async close(): Promise<void> {
    await Promise.all([...this.running.keys()].map((i) => this.kill(i)));
    rmSync(this.root, { recursive: true, force: true });
  }
}
