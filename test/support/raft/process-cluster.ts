// Harness for real-process Raft tests: spawns node-main.ts processes wired through the fault
// proxy, kills/stops/restarts them, and talks to them over their HTTP control channel (the KV
// client). Every wait is bounded; close() always SIGKILLs what is left.

import { spawn, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import { join } from "node:path";
import { FaultProxy } from "./proxy.js";

const NODE_MAIN = fileURLToPath(new URL("./node-main.ts", import.meta.url));
const REPO_ROOT = fileURLToPath(new URL("../../..", import.meta.url));

export interface NodeStatus {
  readonly id: string;
  readonly term: number;
  readonly role: string;
  readonly leader: string | null;
  readonly commit: number;
  readonly applied: number;
  readonly snapshotIndex: number;
}

interface Running {
  readonly child: ChildProcess;
  readonly controlPort: number;
  stopped: boolean;
  readonly exited: Promise<number | null>;
}

export interface ExitInfo {
  readonly code: number | null;
  readonly stderr: string;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class ProcessCluster {
  readonly proxy = new FaultProxy();
  private readonly running = new Map<string, Running>();
  private readonly children = new Set<ChildProcess>();

  constructor(
    readonly ids: readonly string[],
    private readonly root: string,
    private readonly options: { secret: string; tickMs: number; clusterId: string; snapshotEvery?: number },
  ) {}

  async init(): Promise<void> {
    for (const from of this.ids) for (const to of this.ids) if (from !== to) await this.proxy.addLink(`${from}->${to}`);
  }

  dataDir(id: string): string {
    return join(this.root, id);
  }

  live(): string[] {
    return [...this.running.entries()].filter(([, r]) => !r.stopped).map(([id]) => id);
  }

  private args(id: string, bootstrap: boolean): string[] {
    const peers = this.ids
      .filter((p) => p !== id)
      .flatMap((p) => ["--peer", `${p}=127.0.0.1:${this.proxy.port(`${id}->${p}`)}`]);
    return [
      "--import",
      "tsx",
      NODE_MAIN,
      "--id",
      id,
      "--cluster",
      this.options.clusterId,
      "--dir",
      this.dataDir(id),
      "--tick-ms",
      String(this.options.tickMs),
      "--lifetime-ms",
      "90000",
      "--snapshot-every",
      String(this.options.snapshotEvery ?? 50),
      ...(bootstrap ? ["--bootstrap"] : []),
      ...peers,
    ];
  }

  private spawnNode(
    id: string,
    bootstrap: boolean,
  ): { child: ChildProcess; stderr: () => string; exited: Promise<number | null> } {
    const child = spawn(process.execPath, this.args(id, bootstrap), {
      cwd: REPO_ROOT,
      env: { ...process.env, LITEFS_RAFT_SECRET: this.options.secret },
      stdio: ["pipe", "pipe", "pipe"],
    });
    this.children.add(child);
    let err = "";
    child.stderr.on("data", (c: Buffer) => (err += c.toString()));
    const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
    void exited.then(() => this.children.delete(child));
    return { child, stderr: () => err, exited };
  }

  /** Starts a node and waits until it listens; wires the proxy to its new Raft port. */
  async start(id: string, opts: { bootstrap?: boolean } = {}): Promise<void> {
    const { child, stderr, exited } = this.spawnNode(id, opts.bootstrap ?? false);
    const ready = await new Promise<{ raftPort: number; controlPort: number }>((resolve, reject) => {
      let out = "";
      const timer = setTimeout(
        () => reject(new Error(`node ${id} did not start within 20 s; stderr: ${stderr()}`)),
        20_000,
      );
      child.stdout!.on("data", (c: Buffer) => {
        out += c.toString();
        const line = out.split("\n").find((l) => l.startsWith("{"));
        if (line) {
          clearTimeout(timer);
          resolve(JSON.parse(line) as { raftPort: number; controlPort: number });
        }
      });
      void exited.then((code) => {
        clearTimeout(timer);
        reject(new Error(`node ${id} exited with ${code} before it was ready; stderr: ${stderr()}`));
      });
    });
    for (const p of this.ids) if (p !== id) this.proxy.setTarget(`${p}->${id}`, ready.raftPort);
    this.running.set(id, { child, controlPort: ready.controlPort, stopped: false, exited });
  }

  /** Starts a node expected to refuse to start; returns its exit code and stderr. */
  async startExpectingFailure(id: string): Promise<ExitInfo> {
    const { stderr, exited } = this.spawnNode(id, false);
    const code = await Promise.race([exited, sleep(20_000).then(() => "timeout" as const)]);
    if (code === "timeout") throw new Error(`node ${id} kept running although it should have refused to start`);
    return { code, stderr: stderr() };
  }

  async kill(id: string): Promise<void> {
    const r = this.mustRun(id);
    for (const p of this.ids) if (p !== id) this.proxy.setTarget(`${p}->${id}`, null);
    r.child.kill("SIGKILL");
    await r.exited;
    this.proxy.resetConnectionsTo(id);
    this.running.delete(id);
  }

  pause(id: string): void {
    const r = this.mustRun(id);
    r.child.kill("SIGSTOP");
    r.stopped = true;
  }

  resume(id: string): void {
    const r = this.mustRun(id);
    r.child.kill("SIGCONT");
    r.stopped = false;
  }

  private mustRun(id: string): Running {
    const r = this.running.get(id);
    if (!r) throw new Error(`node ${id} is not running`);
    return r;
  }

  // T names the JSON shape the caller expects from that control endpoint.
  // eslint-disable-next-line @typescript-eslint/no-unnecessary-type-parameters
  private async call<T>(
    id: string,
    method: "GET" | "POST",
    path: string,
    timeoutMs = 4000,
  ): Promise<{ status: number; body: T }> {
    const r = this.mustRun(id);
    const res = await fetch(`http://127.0.0.1:${r.controlPort}${path}`, {
      method,
      signal: AbortSignal.timeout(timeoutMs),
    });
    return { status: res.status, body: (await res.json()) as T };
  }

  async status(id: string): Promise<NodeStatus | null> {
    try {
      const { status, body } = await this.call<NodeStatus>(id, "GET", "/status", 1000);
      return status === 200 ? body : null;
    } catch {
      return null;
    }
  }

  /**
   * Waits until the live nodes (or `among`) agree on one leader: a node that says it leads and a
   * majority of the cluster reporting that leader in the same term. Returns its id.
   */
  async waitForLeader(opts: { among?: readonly string[]; not?: string; timeoutMs?: number } = {}): Promise<string> {
    const end = Date.now() + (opts.timeoutMs ?? 15_000);
    const majority = Math.floor(this.ids.length / 2) + 1;
    let last: (NodeStatus | null)[] = [];
    while (Date.now() < end) {
      const ids = opts.among ?? this.live();
      last = await Promise.all(ids.map((id) => this.status(id)));
      for (const s of last) {
        if (!s || s.role !== "leader" || s.id === opts.not) continue;
        const agree = last.filter((o) => o && o.leader === s.id && o.term === s.term).length;
        if (agree >= majority) return s.id;
      }
      await sleep(50);
    }
    throw new Error(`no agreed leader within the timeout; last statuses: ${JSON.stringify(last)}`);
  }

  /**
   * Writes key=value through whichever node leads, following 421 hints and retrying on 503 or
   * unreachable nodes. Resolves true when acknowledged (applied on the leader), false when the
   * deadline passed without an acknowledgment (the outcome is then unknown).
   */
  async put(key: string, value: string, timeoutMs = 10_000): Promise<boolean> {
    const end = Date.now() + timeoutMs;
    let target: string | undefined = this.live()[0];
    let turn = 0;
    while (Date.now() < end) {
      const live = this.live();
      if (!target || !live.includes(target)) target = live[turn++ % live.length];
      if (!target) return false;
      try {
        const { status, body } = await this.call<{ ok?: boolean; leader?: string | null }>(
          target,
          "POST",
          `/put?key=${encodeURIComponent(key)}&value=${encodeURIComponent(value)}`,
        );
        if (status === 200 && body.ok) return true;
        if (status === 421 && body.leader && live.includes(body.leader)) {
          target = body.leader;
          continue;
        }
      } catch {
        // unreachable or timed out: try another node
      }
      target = live[turn++ % live.length];
      await sleep(50);
    }
    return false;
  }

  /** Linearizable dump of a node's KV state (read barrier through the leader). */
  async dump(id: string, timeoutMs = 10_000): Promise<Map<string, string>> {
    const end = Date.now() + timeoutMs;
    let lastError = "";
    while (Date.now() < end) {
      try {
        const { status, body } = await this.call<{ entries?: [string, string][]; error?: string }>(id, "GET", "/dump");
        if (status === 200 && body.entries) return new Map(body.entries);
        lastError = `${status} ${body.error ?? ""}`;
      } catch (e) {
        lastError = (e as Error).message;
      }
      await sleep(100);
    }
    throw new Error(`node ${id} could not serve a linearizable dump: ${lastError}`);
  }

  async close(): Promise<void> {
    for (const child of this.children) {
      child.kill("SIGCONT");
      child.kill("SIGKILL");
    }
    await Promise.all(
      [...this.children].map((c) =>
        c.exitCode !== null || c.signalCode !== null
          ? Promise.resolve()
          : new Promise<void>((r) => c.once("exit", () => r())),
      ),
    );
    this.running.clear();
    await this.proxy.close();
  }
}
