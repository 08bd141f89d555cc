// A tiny deterministic cluster of RaftCores for golden (datadriven) tests: synchronous durable
// storage, an explicit message queue that only moves when the script says so, partitions as
// link filters, and a checker that flags any index applied with two different entries.
import { RaftCore, type RaftConfig, type Ready } from "../../src/raft/core.js";
import { RaftError } from "../../src/raft/errors.js";
import type { SafetyKnobs } from "../../src/raft/knobs.js";
import type { Entry, HardState, Message, NodeId, Snapshot } from "../../src/raft/types.js";
import { formatEntry, formatMessage } from "./format.js";
import { mulberry32 } from "../sim/prng.js";

const CLUSTER_ID = "golden";
const text = new TextDecoder();
const enc = new TextEncoder();

interface Disk {
  hardState: HardState;
  entries: Entry[];
  snapshot: Snapshot | null;
}

interface GoldenNode {
  id: NodeId;
  core: RaftCore | null; // null while crashed
  disk: Disk;
  /** The toy state machine: data of applied normal entries. */
  applied: string[];
  appliedIndex: number;
  incarnation: number;
}

export interface ClusterOptions {
  preVote: boolean;
  checkQuorum: boolean;
  electionTick: number;
  heartbeatTick: number;
  maxEntriesPerMessage: number;
  knobs: Partial<SafetyKnobs>;
}

export class GoldenCluster {
  readonly nodes = new Map<NodeId, GoldenNode>();
  private queue: Message[] = [];
  /** Directed links that drop messages: "from>to". */
  private cuts = new Set<string>();
  private committed = new Map<number, string>();
  private out: string[] = [];

  constructor(
    readonly ids: readonly NodeId[],
    private readonly opts: ClusterOptions,
  ) {
    for (const id of ids) {
      const node: GoldenNode = {
        id,
        core: null,
        disk: { hardState: { term: 0, vote: null, commit: 0 }, entries: [], snapshot: null },
        applied: [],
        appliedIndex: 0,
        incarnation: 0,
      };
      this.nodes.set(id, node);
      this.boot(node);
    }
  }

  /** Run one script command's effect and return what it printed. */
  capture(fn: () => void): string {
    this.out = [];
    try {
      fn();
      this.processReady();
    } catch (e) {
      if (e instanceof RaftError) this.out.push(`error: ${e.name}: ${e.message}`);
      else throw e;
    }
    return this.out.join("\n");
  }

  print(line: string): void {
    this.out.push(line);
  }

  node(id: NodeId): GoldenNode {
    const n = this.nodes.get(id);
    if (!n) throw new Error(`unknown node "${id}" (nodes: ${[...this.nodes.keys()].join(", ")})`);
    return n;
  }

  live(id: NodeId): RaftCore {
    const core = this.node(id).core;
    if (!core) throw new Error(`node ${id} is crashed`);
    return core;
  }

  private boot(node: GoldenNode): void {
    node.incarnation++;
    const config: RaftConfig = {
      id: node.id,
      voters: this.ids,
      clusterId: CLUSTER_ID,
      electionTick: this.opts.electionTick,
      heartbeatTick: this.opts.heartbeatTick,
      // Seeded per node and incarnation: timeouts differ between nodes yet replay identically.
      random: mulberry32(Number(node.id.replace(/\D/g, "") || "7") * 1000 + node.incarnation),
      preVote: this.opts.preVote,
      checkQuorum: this.opts.checkQuorum,
      maxEntriesPerMessage: this.opts.maxEntriesPerMessage,
      knobs: this.opts.knobs,
      restore: { hardState: node.disk.hardState, entries: node.disk.entries, snapshot: node.disk.snapshot },
    };
    node.core = new RaftCore(config);
    node.applied = node.disk.snapshot ? decodeState(node.disk.snapshot.data) : [];
    node.appliedIndex = node.disk.snapshot?.meta.index ?? 0;
  }

  /** Drain every node's Ready until quiet: persist, queue messages, apply, advance. */
  processReady(): void {
    for (let progress = true; progress;) {
      progress = false;
      for (const node of this.nodes.values()) {
        const core = node.core;
        if (!core || !core.hasReady()) continue;
        progress = true;
        this.handleReady(node, core, core.ready());
      }
    }
  }

  private handleReady(node: GoldenNode, core: RaftCore, rd: Ready): void {
    if (rd.softState) {
      const s = rd.softState;
      this.print(`${node.id}: ${s.role} term=${core.term} leader=${s.leader ?? "none"}`);
    }
    // 1. durable state first
    if (rd.snapshot) {
      node.disk.snapshot = rd.snapshot;
      node.disk.entries = [];
    }
    if (rd.entries.length > 0) {
      const first = rd.entries[0]!.index;
      node.disk.entries = node.disk.entries.filter((e) => e.index < first).concat(rd.entries);
    }
    if (rd.hardState) node.disk.hardState = rd.hardState;
    // 2. then messages
    for (const m of rd.messages) {
      this.print(`${node.id} sends ${formatMessage(m)}`);
      this.queue.push(m);
    }
    // 3. then the state machine
    if (rd.snapshot) {
      node.applied = decodeState(rd.snapshot.data);
      node.appliedIndex = rd.snapshot.meta.index;
      this.print(`${node.id}: restored snapshot ${rd.snapshot.meta.index}/${rd.snapshot.meta.term}`);
    }
    for (const e of rd.committedEntries) this.apply(node, e);
    for (const rs of rd.readStates) {
      this.print(`${node.id}: read-state ctx=${text.decode(rs.requestCtx)} index=${rs.index}`);
    }
    core.advance(rd);
  }

  private apply(node: GoldenNode, e: Entry): void {
    const key = formatEntry(e);
    const seen = this.committed.get(e.index);
    if (seen === undefined) this.committed.set(e.index, key);
    else if (seen !== key)
      this.print(`SAFETY VIOLATION: index ${e.index} applied as ${seen} elsewhere but ${key} on ${node.id}`);
    if (e.type === "normal") node.applied.push(text.decode(e.data));
    node.appliedIndex = e.index;
    this.print(`${node.id}: apply ${key}`);
  }

  // ------------------------------------------------------------- script verbs

  /** Deliver queued messages once (messages they cause wait in the queue). */
  deliver(filter: (m: Message) => boolean): number {
    const batch = this.queue.filter(filter);
    this.queue = this.queue.filter((m) => !filter(m));
    for (const m of batch) {
      const target = this.nodes.get(m.to);
      if (this.cuts.has(`${m.from}>${m.to}`)) {
        this.print(`dropped (partition) ${formatMessage(m)}`);
        continue;
      }
      if (!target?.core) {
        this.print(`dropped (${m.to} down) ${formatMessage(m)}`);
        continue;
      }
      target.core.step(m);
    }
    this.processReady();
    return batch.length;
  }

  /** Deliver until no message is left (bounded, so a livelock fails the test instead of hanging). */
  stabilize(): void {
    for (let round = 0; this.queue.length > 0; round++) {
      if (round > 200) throw new Error("stabilize: still busy after 200 rounds");
      this.deliver(() => true);
    }
  }

  drop(filter: (m: Message) => boolean): void {
    for (const m of this.queue.filter(filter)) this.print(`dropped ${formatMessage(m)}`);
    this.queue = this.queue.filter((m) => !filter(m));
  }

  cut(from: NodeId, to: NodeId): void {
    this.cuts.add(`${from}>${to}`);
  }

  heal(): void {
    this.cuts.clear();
  }

  crash(id: NodeId): void {
    const node = this.node(id);
    node.core = null;
    this.queue = this.queue.filter((m) => m.to !== id && m.from !== id);
    this.print(
      `${id}: crashed (durable: term=${node.disk.hardState.term} vote=${node.disk.hardState.vote ?? "none"} last=${lastIndexOf(node.disk)})`,
    );
  }

  restart(id: NodeId): void {
    const node = this.node(id);
    if (node.core) throw new Error(`node ${id} is running; crash it first`);
    this.boot(node);
    this.print(
      `${id}: restarted term=${node.core!.term} commit=${node.core!.commitIndex} last=${node.core!.lastIndex}`,
    );
  }

  tick(id: NodeId, n: number): void {
    for (let i = 0; i < n; i++) {
      this.live(id).tick();
      this.processReady();
    }
  }

  propose(id: NodeId, data: string): void {
    const at = this.live(id).propose(enc.encode(data));
    this.print(`${id}: proposed "${data}" at ${at.index}/${at.term}`);
  }

  readIndex(id: NodeId, ctx: string): void {
    this.live(id).readIndex(enc.encode(ctx));
  }

  compact(id: NodeId, index: number): void {
    const node = this.node(id);
    const snap = this.live(id).compact(index, encodeState(node.applied.slice(0, countNormal(node, index))));
    if (!snap) {
      this.print(`${id}: already compacted past ${index}`);
      return;
    }
    node.disk.snapshot = snap;
    node.disk.entries = node.disk.entries.filter((e) => e.index > index);
    this.print(`${id}: compacted to ${snap.meta.index}/${snap.meta.term}`);
  }

  pending(): readonly Message[] {
    return this.queue;
  }
}

/** How many normal entries of this node's state machine are at or below `index`. */
function countNormal(node: GoldenNode, index: number): number {
  if (index !== node.appliedIndex)
    throw new Error(`golden compact: only the applied index ${node.appliedIndex} is supported`);
  return node.applied.length;
}

function lastIndexOf(d: Disk): number {
  return d.entries[d.entries.length - 1]?.index ?? d.snapshot?.meta.index ?? 0;
}

function encodeState(applied: readonly string[]): Uint8Array {
  return enc.encode(JSON.stringify(applied));
}

function decodeState(data: Uint8Array): string[] {
  return JSON.parse(text.decode(data)) as string[];
}
