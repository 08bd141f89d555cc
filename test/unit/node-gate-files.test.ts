// The WriteGate while /events is NOT connected: every answer comes from the mount files.
import { afterEach, describe, expect, it } from "vitest";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { Writable } from "node:stream";
import { pino } from "pino";
import { loadSettings, type LiteFSSettingsInput } from "../../src/config/index.js";
import { isNotPrimaryError, isSplitBrainError, NotPrimaryError, SplitBrainError } from "../../src/errors.js";
import { openNode, type LiteFSNode, type NodeStateSnapshot, type OpenNodeOptions } from "../../src/node/node.js";
import type { ElectionView } from "../../src/election/election-view.js";
import { NODE_MOUNT_FILE_OPS, type MountFileOps } from "../../src/litefs/mount-view.js";
import { translateRefusal } from "../../src/driver/refusal.js";
import { createTempMount, type MountState, type TempMount } from "../support/litefs-mount.js";
import { refusal } from "../support/node-probes.js";

function capturingLogger(): { logger: pino.Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString("utf8").split("\n"))
        if (line) lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  return { logger: pino({ level: "debug" }, sink), lines };
}

// The node emits from setImmediate; an immediate queued after them runs after them. (A bare 5 ms
// timer could fire first on a loaded machine: timers run before immediates in a loop turn.)
const tick = (): Promise<void> => new Promise((r) => setImmediate(() => setTimeout(r, 5)));

let mount: TempMount | undefined;
let node: LiteFSNode | undefined;
afterEach(async () => {
  await node?.close();
  node = undefined;
  mount?.cleanup();
  mount = undefined;
});

// Port 1 on loopback refuses at once: the events stream never connects, files are the source.
function open(
  nodeId: string,
  state: MountState | "none",
  extra: Partial<LiteFSSettingsInput> = {},
  logger = pino({ level: "silent" }),
): LiteFSNode {
  mount = createTempMount(state === "none" ? { role: "primary" } : state);
  if (state === "none") mount.remove();
  const settings = loadSettings(
    {
      nodeId,
      primaryHostname: "node-a",
      mountPath: mount.path,
      dataPath: "/var/lib/litefs",
      httpAddr: "127.0.0.1:1",
      databaseName: "db",
      ...extra,
    },
    {},
  );
  // fileGateCacheMs 0: these tests flip the mount and want each answer from the files; the
  // verdict cache has its own tests below.
  node = openNode(settings, {
    logger,
    pollIntervalMs: 0,
    backoff: { initialMs: 60_000, maxMs: 60_000 },
    fileGateCacheMs: 0,
  });
  return node;
}

describe("gate matrix over mount dirs (static election, primaryHostname node-a)", () => {
  it("primary: writable", () => {
    const n = open("node-a", { role: "primary" });
    expect(() => n.gate.assertWritable()).not.toThrow();
    expect(n.snapshot()).toEqual({ role: "primary", primary: "node-a", splitBrain: false, source: "files" });
  });

  it("replica: NotPrimaryError naming the primary", () => {
    const n = open("node-b", { role: "replica", primary: "node-a" });
    const e = refusal(n) as NotPrimaryError;
    expect(e).toBeInstanceOf(NotPrimaryError);
    expect({ nodeId: e.nodeId, primary: e.primary, reason: e.reason }).toEqual({
      nodeId: "node-b",
      primary: "node-a",
      reason: "replica",
    });
    expect(n.role).toBe("replica");
    expect(n.primary).toBe("node-a");
  });

  it("replica that lost its primary (no .primary, lag not zero): not writable, no primary", () => {
    const n = open("node-b", { role: "replica-lost-primary", lagMs: 4521 });
    const e = refusal(n) as NotPrimaryError;
    expect(e.reason).toBe("no-primary");
    expect(e.primary).toBeNull();
    expect(n.primary).toBeNull();
    expect(n.role).toBe("replica");
  });

  it("the configured primary that lost contact is not writable either (absent .primary is ambiguous)", () => {
    const n = open("node-a", { role: "replica-lost-primary", lagMs: 2147483647 });
    expect((refusal(n) as NotPrimaryError).reason).toBe("no-primary");
    expect(n.lagMs).toBe(Number.POSITIVE_INFINITY);
  });

  it("no mount: fails closed with reason unknown", () => {
    const n = open("node-a", "none");
    const e = refusal(n) as NotPrimaryError;
    expect(e.reason).toBe("unknown");
    expect(e.message).toMatch(/no LiteFS mount at/);
    expect(n.lagMs).toBeNull();
    expect(n.txid()).toBeNull();
  });

  it("unreadable .lag: fails closed", () => {
    const n = open("node-a", { role: "primary" });
    mount!.removeFile(".lag");
    mkdirSync(join(mount!.path, ".lag"));
    expect((refusal(n) as NotPrimaryError).reason).toBe("unknown");
    expect(n.lagMs).toBeNull();
  });

  it("unreadable .primary: fails closed", () => {
    const n = open("node-b", { role: "primary" });
    mkdirSync(join(mount!.path, ".primary"));
    expect((refusal(n) as NotPrimaryError).reason).toBe("unknown");
  });

  it.each(["+00000028x\n", "", "281\n", "x".repeat(300)])("malformed .lag %j: fails closed", (content) => {
    const n = open("node-a", { role: "primary" });
    mount!.writeRaw(".lag", content);
    expect((refusal(n) as NotPrimaryError).reason).toBe("unknown");
  });

  it("malformed .primary: fails closed", () => {
    const n = open("node-b", { role: "replica" });
    mount!.writeRaw(".primary", "\n");
    expect((refusal(n) as NotPrimaryError).reason).toBe("unknown");
  });

  it("follows the files on every call while events are not connected", () => {
    const n = open("node-a", { role: "primary" });
    n.gate.assertWritable();
    mount!.setReplica({ primary: "node-a" });
    expect(isNotPrimaryError(refusal(n))).toBe(true);
    mount!.setPrimary();
    n.gate.assertWritable();
    mount!.remove();
    expect((refusal(n) as NotPrimaryError).reason).toBe("unknown");
  });

  it("lag, txid and the never-synced value from the files", () => {
    const n = open("node-b", { role: "replica", lagMs: 281 }, {});
    expect(n.lagMs).toBe(281);
    expect(n.txid()).toBe(4n);
    mount!.setPosition(0xabcn);
    expect(n.txid("db")).toBe(0xabcn);
    expect(n.txid("other")).toBeNull();
    mount!.writeRaw("db-pos", "nonsense\n");
    expect(() => n.txid()).toThrow(/malformed LiteFS file .*db-pos/);
  });
});

describe("static split brain from the files", () => {
  it("this node is not primaryHostname but LiteFS says primary: SplitBrainError, announced once per episode, logged at error", async () => {
    const { logger, lines } = capturingLogger();
    const n = open("node-b", { role: "primary" }, {}, logger);
    const seen: SplitBrainError[] = [];
    n.on("split-brain", (e) => seen.push(e));
    for (let i = 0; i < 5; i++) {
      const e = refusal(n) as SplitBrainError;
      expect(e).toBeInstanceOf(SplitBrainError);
      expect(e.reason).toBe('LiteFS says node "node-b" is primary but primaryHostname is "node-a"');
      expect(e.primary).toBe("node-a");
    }
    expect(n.splitBrain).toBe(true);
    await tick();
    expect(seen).toHaveLength(1);
    expect(lines.filter((l) => l["level"] === 50 && /split brain/.test(String(l["msg"])))).toHaveLength(1);

    // Episode ends (LiteFS agrees again), then a new one starts: announced again.
    mount!.setReplica({ primary: "node-a" });
    expect(isNotPrimaryError(refusal(n))).toBe(true);
    expect(n.splitBrain).toBe(false);
    mount!.setPrimary();
    expect(isSplitBrainError(refusal(n))).toBe(true);
    await tick();
    expect(seen).toHaveLength(2);
  });

  it(".primary names a host other than primaryHostname: split brain", () => {
    const n = open("node-b", { role: "replica", primary: "node-c" });
    const e = refusal(n) as SplitBrainError;
    expect(e).toBeInstanceOf(SplitBrainError);
    expect(e.reason).toMatch(/LiteFS names "node-c" as primary but primaryHostname is "node-a"/);
  });

  it("the configured primary told by LiteFS that another node is primary: split brain", () => {
    const n = open("node-a", { role: "replica", primary: "node-c" });
    expect(isSplitBrainError(refusal(n))).toBe(true);
  });

  it("a split brain present at open is heard by a listener attached right after openNode", async () => {
    const n = open("node-b", { role: "primary" });
    const seen: SplitBrainError[] = [];
    n.on("split-brain", (e) => seen.push(e));
    await tick();
    expect(seen).toHaveLength(1);
  });

  it("a throwing listener is logged, never thrown into the gate", async () => {
    const { logger, lines } = capturingLogger();
    const n = open("node-b", { role: "primary" }, {}, logger);
    n.on("split-brain", () => {
      throw new Error("listener bug");
    });
    expect(isSplitBrainError(refusal(n))).toBe(true);
    await tick();
    expect(lines.some((l) => /"split-brain" listener threw/.test(String(l["msg"])))).toBe(true);
  });
});

describe("raft election (the lease service's published state backs LiteFS)", () => {
  const raft: Partial<LiteFSSettingsInput> = {
    leaderElection: "raft",
    primaryHostname: null,
    raft: { selfAddr: "node-b:7000", peers: ["node-a:7000", "node-c:7000"], secret: "0123456789abcdef" },
  };

  it("LiteFS primary without a published lease state fails closed as split brain", () => {
    const n = open("node-b", { role: "primary" }, raft);
    const e = refusal(n) as SplitBrainError;
    expect(e).toBeInstanceOf(SplitBrainError);
    expect(e.reason).toMatch(/no lease state at .*is the lease service running/);
  });

  it("a replica of any host is just a replica", () => {
    const n = open("node-b", { role: "replica", primary: "node-c" }, raft);
    const e = refusal(n) as NotPrimaryError;
    expect(e.reason).toBe("replica");
    expect(e.primary).toBe("node-c");
    expect(n.splitBrain).toBe(false);
  });

  it("a custom election view plugs in and is re-judged when it changes", async () => {
    mount = createTempMount({ role: "primary" });
    let leader = "node-b";
    let changed: () => void = () => undefined;
    const settings = loadSettings(
      { nodeId: "node-b", mountPath: mount.path, dataPath: "/var/lib/litefs", httpAddr: "127.0.0.1:1", ...raft },
      {},
    );
    node = openNode(settings, {
      logger: pino({ level: "silent" }),
      pollIntervalMs: 0,
      election: {
        kind: "raft",
        contradiction: (view) =>
          view.kind === "primary" && leader !== "node-b"
            ? { reason: `lease held by ${leader}`, primary: leader }
            : null,
        subscribe: (listener) => {
          changed = listener;
          return () => undefined;
        },
      },
    });
    const seen: NodeStateSnapshot[] = [];
    node.on("role-change", (s) => seen.push(s));
    node.gate.assertWritable();
    leader = "node-c";
    changed();
    expect(isSplitBrainError(refusal(node))).toBe(true);
    await tick();
    expect(seen.at(-1)).toMatchObject({ splitBrain: true });
  });
});

describe("the file gate's verdict cache (fileGateCacheMs)", () => {
  const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

  /** A node on a primary mount whose file operations are counted. */
  function cached(
    fileGateCacheMs: number,
    extra: Partial<OpenNodeOptions> = {},
  ): { n: LiteFSNode; reads: () => number } {
    mount = createTempMount({ role: "primary" });
    let reads = 0;
    const counting: MountFileOps = {
      ...NODE_MOUNT_FILE_OPS,
      exists: (path) => (reads++, NODE_MOUNT_FILE_OPS.exists(path)),
    };
    const settings = loadSettings(
      {
        nodeId: "node-a",
        primaryHostname: "node-a",
        mountPath: mount.path,
        dataPath: "/var/lib/litefs",
        httpAddr: "127.0.0.1:1",
        databaseName: "db",
      },
      {},
    );
    node = openNode(settings, {
      logger: pino({ level: "silent" }),
      pollIntervalMs: 0,
      backoff: { initialMs: 60_000, maxMs: 60_000 },
      fileGateCacheMs,
      mountFileOps: counting,
      ...extra,
    });
    return { n: node, reads: () => reads };
  }

  it("reuses a writable verdict without reading the files, until invalidate()", () => {
    const { n, reads } = cached(60_000);
    n.gate.assertWritable();
    const afterFirst = reads();
    mount!.setReplica({ primary: "node-a" });
    for (let i = 0; i < 100; i++) n.gate.assertWritable();
    expect(reads()).toBe(afterFirst);
    n.gate.invalidate?.();
    expect(isNotPrimaryError(refusal(n))).toBe(true);
  });

  it("never outlives its bound: refused once fileGateCacheMs has passed", async () => {
    const { n } = cached(30);
    n.gate.assertWritable();
    mount!.setReplica({ primary: "node-a" });
    await sleep(60);
    expect(isNotPrimaryError(refusal(n))).toBe(true);
  });

  it("does not cache refusals: a promotion is seen at the next check", () => {
    const { n } = cached(60_000);
    mount!.setReplica({ primary: "node-a" });
    expect(isNotPrimaryError(refusal(n))).toBe(true);
    mount!.setPrimary();
    expect(refusal(n)).toBeNull();
  });

  it("the background poll finding this node not writable drops the cache", async () => {
    const { n } = cached(60_000, { pollIntervalMs: 10 });
    n.gate.assertWritable();
    mount!.setReplica({ primary: "node-a" });
    const deadline = Date.now() + 5_000;
    while (refusal(n) === null && Date.now() < deadline) await sleep(10);
    expect(isNotPrimaryError(refusal(n))).toBe(true);
  });

  it("an election change drops it at once; a lease deadline ends it", async () => {
    let backed = true;
    let deadline = performance.now() + 60_000;
    let changed: () => void = () => undefined;
    const election: ElectionView = {
      kind: "raft",
      contradiction: (view) =>
        view.kind === "primary" && (!backed || performance.now() >= deadline)
          ? { reason: "the lease is not held", primary: null }
          : null,
      writableUntilMs: () => deadline,
      subscribe: (listener) => {
        changed = listener;
        return () => undefined;
      },
    };
    const { n } = cached(60_000, { election });
    n.gate.assertWritable();
    backed = false;
    changed();
    expect(isSplitBrainError(refusal(n))).toBe(true);

    backed = true;
    deadline = performance.now() + 30;
    changed();
    n.gate.assertWritable();
    await sleep(60);
    // No listener call: the deadline alone ends the cached verdict.
    expect(isSplitBrainError(refusal(n))).toBe(true);
  });

  it("a LiteFS refusal is judged against the files as of now, not the cache", () => {
    const { n } = cached(60_000);
    n.gate.assertWritable();
    mount!.setReplica({ primary: "node-a" });
    const ioError = Object.assign(new Error("disk I/O error"), { code: "SQLITE_IOERR_WRITE" });
    const translated = translateRefusal(n.gate, ioError);
    expect(translated).toBeInstanceOf(NotPrimaryError);
    expect((translated as NotPrimaryError).cause).toBe(ioError);
  });

  it.each([-1, Number.NaN, Number.POSITIVE_INFINITY])("rejects fileGateCacheMs %s", (bad) => {
    expect(() => cached(bad)).toThrow(/fileGateCacheMs/);
  });
});

describe("dev mode", () => {
  it("is always writable, with no LiteFS at all", async () => {
    const settings = loadSettings({ enabled: false }, {});
    const n = openNode(settings);
    expect(() => n.gate.assertWritable()).not.toThrow();
    expect(n.snapshot()).toEqual({ role: "primary", primary: null, splitBrain: false, source: "dev" });
    expect(n.lagMs).toBeNull();
    expect(n.txid()).toBeNull();
    await n.ready;
    await n.close();
  });
});
