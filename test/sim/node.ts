// One simulated node: a RaftCore driven the way the real runner drives it (Ready -> write ->
// fsync -> send -> apply -> advance), a simulated disk whose unsynced writes a crash drops, the
// KV state machine, and the client requests waiting on it.
import { RaftCore, type Ready } from "../../src/raft/core.js";
import { isNotLeaderError, RaftError } from "../../src/raft/errors.js";
import type { SafetyKnobs } from "../../src/raft/knobs.js";
import type { Entry, Message, NodeId } from "../../src/raft/types.js";
import { chainHash, type CandidateLog, type NodeLogView, type SafetyChecker } from "./checker.js";
import { SimDisk } from "./disk.js";
import { decodeCommand, encodeCommand, KvStore } from "./kv.js";

export interface NodeEnv {
  now(): number;
  send(from: SimNode, m: Message): void;
  /** Call node.syncDone(incarnation) once the disk has flushed (virtual latency). */
  scheduleSync(node: SimNode): void;
  readonly checker: SafetyChecker;
  readonly clusterId: string;
  readonly voters: readonly NodeId[];
  readonly electionTick: number;
  readonly heartbeatTick: number;
  readonly maxEntriesPerMessage: number;
  readonly compactEvery: number;
  readonly preVote: boolean;
  readonly checkQuorum: boolean;
  readonly knobs: Partial<SafetyKnobs>;
  random(): number;
  /** Called the first time any node applies `index` (it is committed). */
  committed(index: number, term: number): void;
}

export type WriteReply = { ok: true; index: number } | { ok: false; leader: NodeId | null };
export type ReadReply = { ok: true; value: string | null; index: number } | { ok: false; leader: NodeId | null };

export class SimNode {
  core: RaftCore | null = null;
  readonly disk = new SimDisk();
  kv = new KvStore();
  alive = false;
  paused = false;
  incarnation = 0;
  private inflight: Ready | null = null;
  private syncDeferred = false;
  /** Work that reached the process while it was frozen: messages and client calls, run on resume. */
  private inbox: (() => void)[] = [];
  /** Prefix hashes of the written log: hashes[k] is for index hashBase.index + 1 + k. */
  private hashBase = { index: 0, hash: 0 };
  private hashes: number[] = [];
  private pendingWrites = new Map<string, (r: WriteReply) => void>();
  private pendingReads = new Map<string, { key: string; reply: (r: ReadReply) => void }>();
  private waitingReads: { index: number; key: string; reply: (r: ReadReply) => void }[] = [];
  /** Ticks this process has run (its own clock), for the CheckQuorum property. */
  ticks = 0;
  leaderTerm = -1;
  readonly contact = new Map<NodeId, number>();

  constructor(
    readonly id: NodeId,
    private readonly env: NodeEnv,
  ) {}

  boot(): void {
    this.incarnation++;
    const d = this.disk.durable;
    this.core = new RaftCore({
      id: this.id,
      voters: this.env.voters,
      clusterId: this.env.clusterId,
      electionTick: this.env.electionTick,
      heartbeatTick: this.env.heartbeatTick,
      random: () => this.env.random(),
      preVote: this.env.preVote,
      checkQuorum: this.env.checkQuorum,
      maxEntriesPerMessage: this.env.maxEntriesPerMessage,
      knobs: this.env.knobs,
      restore: { hardState: d.hardState, entries: d.entries, snapshot: d.snapshot },
    });
    this.kv = d.snapshot ? KvStore.decode(d.snapshot.data) : new KvStore();
    this.rebuildHashes();
    this.alive = true;
    this.paused = false;
    this.leaderTerm = -1;
    this.pump();
  }

  crash(): void {
    this.alive = false;
    this.core = null;
    this.disk.crash();
    this.inflight = null;
    this.syncDeferred = false;
    this.inbox = [];
    this.pendingWrites.clear();
    this.pendingReads.clear();
    this.waitingReads = [];
  }

  pause(): void {
    if (this.alive) this.paused = true;
  }

  /**
   * Thaw: the process handles what queued up in an arbitrary order (sockets, timers and client
   * connections are not ordered against each other), so a stale leader may see a client request
   * before the messages that would depose it.
   */
  resume(): void {
    if (!this.alive || !this.paused) return;
    this.paused = false;
    const inbox = this.inbox;
    this.inbox = [];
    for (let i = inbox.length - 1; i > 0; i--) {
      const j = Math.floor(this.env.random() * (i + 1));
      [inbox[i], inbox[j]] = [inbox[j]!, inbox[i]!];
    }
    for (const run of inbox) if (this.alive && !this.paused) run();
    if (this.syncDeferred) {
      this.syncDeferred = false;
      this.completeReady();
    }
    this.pump();
  }

  deliver(m: Message): void {
    if (!this.alive || !this.core) return;
    if (this.paused) {
      this.inbox.push(() => this.deliver(m));
      return;
    }
    const core = this.core;
    if (core.role === "leader" && m.term === core.term && (m.type === "appResp" || m.type === "heartbeatResp")) {
      this.contact.set(m.from, this.ticks);
    }
    this.guard(() => core.step(m));
    this.pump();
  }

  tick(): void {
    if (!this.alive || this.paused || !this.core) return;
    this.ticks++;
    const core = this.core;
    this.guard(() => core.tick());
    this.pump();
  }

  put(key: string, value: string, id: string, reply: (r: WriteReply) => void): boolean {
    const core = this.core;
    if (!this.alive || !core) return false;
    if (this.paused) {
      this.inbox.push(() => this.put(key, value, id, reply));
      return true;
    }
    try {
      core.propose(encodeCommand({ op: "put", id, key, value }));
    } catch (e) {
      if (!isNotLeaderError(e)) throw e;
      reply({ ok: false, leader: e.leader });
      return true;
    }
    this.pendingWrites.set(id, reply);
    this.pump();
    return true;
  }

  get(key: string, ctx: string, reply: (r: ReadReply) => void): boolean {
    const core = this.core;
    if (!this.alive || !core) return false;
    if (this.paused) {
      this.inbox.push(() => this.get(key, ctx, reply));
      return true;
    }
    try {
      core.readIndex(new TextEncoder().encode(ctx));
    } catch (e) {
      if (!isNotLeaderError(e)) throw e;
      reply({ ok: false, leader: e.leader });
      return true;
    }
    this.pendingReads.set(ctx, { key, reply });
    this.pump();
    return true;
  }

  /** Take the next Ready if none is in flight: write it, then wait for the (virtual) fsync. */
  private pump(): void {
    const core = this.core;
    if (!core || this.inflight || !this.alive || this.paused || !core.hasReady()) return;
    const rd = core.ready();
    this.inflight = rd;
    const needsSync = rd.hardState !== null || rd.snapshot !== null || rd.entries.length > 0;
    if (needsSync) {
      this.disk.write({ hardState: rd.hardState, snapshot: rd.snapshot, entries: rd.entries });
      this.recordWrittenLog(rd);
    }
    if (this.env.knobs.fsyncBeforeSend === false) this.sendAll(rd); // mutation: send before durable
    if (needsSync) this.env.scheduleSync(this);
    else this.completeReady();
  }

  syncDone(incarnation: number): void {
    if (incarnation !== this.incarnation || !this.alive || !this.inflight) return;
    if (this.paused) {
      this.syncDeferred = true; // the process is frozen: it acts on the flush when it resumes
      return;
    }
    this.completeReady();
    this.pump();
  }

  private completeReady(): void {
    const rd = this.inflight;
    const core = this.core;
    if (!rd || !core) return;
    this.disk.sync();
    if (this.env.knobs.fsyncBeforeSend !== false) this.sendAll(rd);
    if (rd.snapshot) this.kv = KvStore.decode(rd.snapshot.data);
    for (const e of rd.committedEntries) this.apply(e, core.term);
    for (const rs of rd.readStates) {
      const ctx = new TextDecoder().decode(rs.requestCtx);
      const pending = this.pendingReads.get(ctx);
      if (!pending) continue;
      this.pendingReads.delete(ctx);
      this.waitingReads.push({ index: rs.index, key: pending.key, reply: pending.reply });
    }
    this.inflight = null;
    this.guard(() => core.advance(rd));
    this.serveReads(core.appliedIndex);
    this.maybeCompact(core);
  }

  private sendAll(rd: Ready): void {
    for (const m of rd.messages) {
      this.env.checker.checkDurableSend(this.id, this.disk, m, this.env.now());
      this.env.send(this, m);
    }
  }

  private apply(e: Entry, term: number): void {
    if (this.env.checker.observeApply(this.id, term, e.index, e.term, this.hashAt(e.index), this.env.now())) {
      this.env.committed(e.index, e.term);
    }
    if (e.type !== "normal") return;
    const cmd = decodeCommand(e.data);
    this.kv.put(cmd.key, cmd.value, e.index);
    const reply = this.pendingWrites.get(cmd.id);
    if (reply) {
      this.pendingWrites.delete(cmd.id);
      reply({ ok: true, index: e.index });
    }
  }

  private serveReads(applied: number): void {
    if (this.waitingReads.length === 0) return;
    const ready = this.waitingReads.filter((r) => r.index <= applied);
    this.waitingReads = this.waitingReads.filter((r) => r.index > applied);
    for (const r of ready) {
      const v = this.kv.get(r.key);
      r.reply({ ok: true, value: v?.value ?? null, index: v?.index ?? 0 });
    }
  }

  private maybeCompact(core: RaftCore): void {
    const applied = core.appliedIndex;
    if (applied - this.hashBase.index < this.env.compactEvery) return;
    const snap = core.compact(applied, this.kv.encode());
    if (!snap) return;
    this.disk.compact(snap);
    const hash = this.hashAt(applied);
    this.hashes = this.hashes.slice(applied - this.hashBase.index);
    this.hashBase = { index: applied, hash };
  }

  /** This node's logs for the commit-time leader completeness check. */
  logView(): NodeLogView {
    const disk = this.disk;
    const durableIndex = disk.durableLastIndex();
    const durableLast = { index: durableIndex, term: disk.durableTerm(durableIndex) ?? 0 };
    const candidates: CandidateLog[] = [
      {
        last: durableLast,
        contains: (index, term) =>
          index <= (disk.durable.snapshot?.meta.index ?? 0) || disk.durableTerm(index) === term,
      },
    ];
    const core = this.alive ? this.core : null;
    if (core) {
      candidates.push({
        last: { index: core.lastIndex, term: core.termAt(core.lastIndex) ?? 0 },
        contains: (index, term) => core.termAt(index) === term || index <= core.status().snapshotIndex,
      });
    }
    return { id: this.id, candidates, durableLast };
  }

  // ------------------------------------------------------------ written-log hashes (log matching)

  private hashAt(index: number): number {
    if (index === this.hashBase.index) return this.hashBase.hash;
    return this.hashes[index - this.hashBase.index - 1] ?? Number.NaN;
  }

  private recordWrittenLog(rd: Ready): void {
    const now = this.env.now();
    if (rd.snapshot) {
      const { index, term } = rd.snapshot.meta;
      this.hashBase = { index, hash: this.env.checker.prefixHash(index, term) ?? Number.NaN };
      this.hashes = [];
    }
    const first = rd.entries[0];
    if (!first) return;
    this.hashes.length = Math.max(0, first.index - this.hashBase.index - 1);
    let prev = this.hashAt(first.index - 1);
    for (const e of rd.entries) {
      prev = chainHash(prev, e);
      this.hashes.push(prev);
      this.env.checker.observeEntry(this.id, e.index, e.term, prev, now);
    }
  }

  private rebuildHashes(): void {
    const d = this.disk.durable;
    const s = d.snapshot;
    this.hashBase = s
      ? { index: s.meta.index, hash: this.env.checker.prefixHash(s.meta.index, s.meta.term) ?? Number.NaN }
      : { index: 0, hash: 0 };
    this.hashes = [];
    let prev = this.hashBase.hash;
    for (const e of d.entries) {
      if (e.index <= this.hashBase.index) continue;
      prev = chainHash(prev, e);
      this.hashes.push(prev);
    }
  }

  /** A RaftError thrown by the core (e.g. refusing to overwrite a committed entry) is a finding. */
  private guard(fn: () => void): void {
    try {
      fn();
    } catch (e) {
      if (!(e instanceof RaftError)) throw e;
      this.env.checker.report("core-error", this.env.now(), `${this.id}: ${e.name}: ${e.message}`);
    }
  }
}
