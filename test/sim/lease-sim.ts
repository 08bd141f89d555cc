// The deterministic simulator, extended with the lease service and the LiteFS lease-loop model:
// 3 hosts, each running a RaftCore (driven like the runner: persist -> send -> apply -> advance),
// the real LeaseStateMachine and LeaseService on a virtual monotonic clock, and a LiteFS model
// (test/support/lease/litefs-model.ts) calling its host's service with LiteFS's 1 s answer
// deadline. Virtual time, one event queue, a seeded PRNG; faults: host crash (+ restart from its
// durable Raft state), host pause (SIGSTOP of everything on it: work is deferred to resume; the
// monotonic clock keeps running), network isolation, clean LiteFS stop, handoff.
//
// Checked: LiteFS primary intervals never overlap, except for intervals of a host that was
// paused during them; effective writers (LiteFS primary AND write gate open, host not paused)
// never overlap at all; liveness bounds are measured by the scenarios.

import { RaftContact, type ContactKnobs } from "../../src/raft/contact.js";
import { RaftCore } from "../../src/raft/core.js";
import type { Entry, HardState, Message } from "../../src/raft/types.js";
import { leaseProblem } from "../../src/lease/published-state.js";
import { LeaseService } from "../../src/lease/service.js";
import { LeaseStateMachine, type LeaseResult } from "../../src/lease/state-machine.js";
import type { LeaseClock, LeaseKnobs, LeaseReply, LeaseRequest, RaftPort } from "../../src/lease/types.js";
import { ConsulError, type ConsulApi, type SessionEntry } from "../support/lease/consul-client.js";
import { IntervalRecorder, LiteFSLeaseModel, type PrimaryInterval } from "../support/lease/litefs-model.js";
import { EventQueue } from "./event-queue.js";
import { createRng, type Rng } from "./prng.js";

const SIM_TICK_MS = 50;
export const SIM_TTL_MS = 3000;
export const SIM_LOCK_DELAY_MS = 1000;
/**
 * How long a library write admitted by the gate may still be running after it (a statement or
 * commit in flight): a host counts as a writer for this long after its gate was last open.
 */
const SIM_WRITE_INFLIGHT_MS = 100;
const ANSWER_DEADLINE_MS = 1000;

export interface LeaseSimOptions {
  readonly seed: number;
  readonly knobs?: Partial<LeaseKnobs>;
  /** Switches of each host's RaftContact (the takeover-bound mutation check). */
  readonly contactKnobs?: ContactKnobs;
  readonly hosts?: number;
  /** LiteFS's session TTL and lock-delay (default SIM_TTL_MS, SIM_LOCK_DELAY_MS). */
  readonly ttlMs?: number;
  readonly lockDelayMs?: number;
}

interface Durable {
  hardState: HardState;
  entries: Entry[];
}

class Host {
  core!: RaftCore;
  sm!: LeaseStateMachine;
  service!: LeaseService;
  model!: LiteFSLeaseModel;
  alive = false;
  paused = false;
  incarnation = 0;
  inbox: (() => void)[] = [];
  /** Contact with the other members on the virtual clock (RaftPort.heardFrom, takeoverBound). */
  contact!: RaftContact;
  readonly durable: Durable = { hardState: { term: 0, vote: null, commit: 0 }, entries: [] };
  readonly pauses: [number, number | null][] = [];
  private proposals = new Map<
    number,
    { term: number; resolve: (r: LeaseResult) => void; reject: (e: Error) => void }
  >();
  private reads = new Map<string, { index: number | null; resolve: () => void; reject: (e: Error) => void }>();
  private applied = 0;
  private readySoon = false;
  private readSeq = 0;

  constructor(
    readonly id: string,
    private readonly sim: LeaseSim,
  ) {}

  /** Runs `fn` on this host now, or at resume when paused; never after a crash. */
  run(fn: () => void): void {
    const inc = this.incarnation;
    const guarded = (): void => {
      if (!this.alive || this.incarnation !== inc) return;
      fn();
    };
    if (this.paused) this.inbox.push(guarded);
    else guarded();
  }

  at(ms: number, fn: () => void): unknown {
    const handle = { cancelled: false };
    this.sim.schedule(ms, () => {
      if (!handle.cancelled) this.run(fn);
    });
    return handle;
  }

  boot(): void {
    this.incarnation++;
    this.alive = true;
    this.applied = 0;
    this.contact = new RaftContact(this.sim.ids, () => this.sim.now, this.sim.contactKnobs);
    this.proposals.clear();
    this.reads.clear();
    const clock: LeaseClock = {
      now: () => this.sim.now,
      setTimer: (fn, ms) => this.at(ms, fn),
      clearTimer: (h) => ((h as { cancelled: boolean }).cancelled = true),
    };
    let service: LeaseService | null = null;
    this.sm = new LeaseStateMachine({ now: () => this.sim.now, onChange: (c) => service?.onStateChange(c) });
    this.core = new RaftCore({
      id: this.id,
      voters: this.sim.ids,
      clusterId: "lease-sim",
      electionTick: 10,
      heartbeatTick: 1,
      random: () => this.sim.rng.next(),
      restore: { hardState: this.durable.hardState, entries: this.durable.entries, snapshot: null },
    });
    const port: RaftPort = {
      propose: (data, options) => this.propose(data, options),
      read: () => this.read(),
      status: () => ({ id: this.id, term: this.core.term, role: this.core.role, leader: this.core.leader }),
      heardFrom: (member) => this.contact.heardFrom(member),
      takeoverBound: () => this.contact.takeoverBound(),
    };
    service = new LeaseService({
      raft: port,
      stateMachine: this.sm,
      clock,
      nodeName: this.id,
      leaseKey: "litefs/primary",
      forward: (leader, request, timeoutMs) => this.sim.forward(this, leader, request, timeoutMs),
      minTtlMs: 1000,
      onEvent: (e) => {
        this.sim.log.push({ at: this.sim.now, host: this.id, ...e });
        if (e.type === "member-silent") this.sim.checkRelease(e.member, e.session);
      },
      ...(this.sim.knobs ? { knobs: this.sim.knobs } : {}),
    });
    this.service = service;
    service.start();
    this.model = new LiteFSLeaseModel({
      name: this.id,
      consul: () => this.consul(),
      clock: { now: () => this.sim.now, sleep: (ms) => new Promise<void>((r) => this.at(ms, r)) },
      recorder: this.sim.recorder,
      ttl: `${this.sim.ttlMs / 1000}s`,
      ttlMs: this.sim.ttlMs,
      lockDelay: `${this.sim.lockDelayMs}ms`,
    });
    // A restart is `litefs-node run` starting again: LiteFS only once the lease service rejoined
    // and ended any session the previous LiteFS left behind (bin/commands/run.ts).
    if (this.incarnation === 1) this.model.start();
    else this.rejoinThenStartLitefs(this.incarnation);
    this.tickLoop(this.incarnation);
    this.scheduleReady();
  }

  private rejoinThenStartLitefs(inc: number): void {
    this.read().then(
      async () => {
        await this.service.endLocalSessions(2000);
        if (this.incarnation === inc && this.alive) this.model.start();
      },
      () => this.at(100, () => this.rejoinThenStartLitefs(inc)),
    );
  }

  crash(): void {
    this.model.crash();
    this.service.close();
    this.alive = false;
    this.paused = false;
    this.inbox = [];
    this.incarnation++;
  }

  pause(): void {
    this.paused = true;
    this.pauses.push([this.sim.now, null]);
  }

  resume(): void {
    this.paused = false;
    const last = this.pauses.at(-1);
    if (last) last[1] = this.sim.now;
    const work = this.inbox;
    this.inbox = [];
    for (const w of work) w();
  }

  private tickLoop(inc: number): void {
    this.at(SIM_TICK_MS, () => {
      if (this.incarnation !== inc) return;
      this.core.tick();
      this.scheduleReady();
      this.tickLoop(inc);
    });
  }

  deliver(m: Message): void {
    this.run(() => {
      this.contact.received(m);
      try {
        this.core.step(m);
      } catch {
        // refused by the core: dropped
      }
      this.scheduleReady();
    });
  }

  private scheduleReady(): void {
    if (this.readySoon) return;
    this.readySoon = true;
    this.at(0, () => {
      this.readySoon = false;
      this.processReady();
    });
  }

  private processReady(): void {
    while (this.core.hasReady()) {
      const rd = this.core.ready();
      // 1. durable (synchronous here: the simulated disk never loses an fsynced write)
      if (rd.hardState) this.durable.hardState = rd.hardState;
      for (const e of rd.entries) {
        const at = this.durable.entries.findIndex((x) => x.index >= e.index);
        if (at >= 0) this.durable.entries.length = at;
        this.durable.entries.push(e);
      }
      // 2. send
      for (const m of rd.messages) this.sim.send(this.contact.outgoing(m));
      // 3. apply
      for (const e of rd.committedEntries) {
        if (e.index <= this.applied) continue;
        const result = e.type === "normal" ? this.sm.apply(e) : undefined;
        this.applied = e.index;
        const p = this.proposals.get(e.index);
        if (p) {
          this.proposals.delete(e.index);
          if (p.term === e.term && result) p.resolve(result);
          else p.reject(new Error("superseded"));
        }
      }
      for (const rs of rd.readStates) {
        const r = this.reads.get(Buffer.from(rs.requestCtx).toString("hex"));
        if (r) r.index = rs.index;
      }
      if (rd.softState) {
        this.contact.roleChanged(rd.softState.role, this.core.term);
        this.service.onRoleChange(rd.softState.role, this.core.term);
      }
      this.core.advance(rd);
      for (const [k, r] of this.reads) {
        if (r.index !== null && r.index <= this.applied) {
          this.reads.delete(k);
          r.resolve();
        }
      }
    }
  }

  private propose(data: Uint8Array, options?: { fenceReads?: boolean }): Promise<LeaseResult> {
    let placed: { index: number; term: number };
    try {
      placed = this.core.propose(data, options);
    } catch (e) {
      return Promise.reject(e);
    }
    this.scheduleReady();
    return new Promise((resolve, reject) => {
      this.proposals.set(placed.index, { term: placed.term, resolve, reject });
      this.at(3000, () => {
        if (this.proposals.delete(placed.index)) reject(new Error("proposal timeout"));
      });
    });
  }

  private read(): Promise<void> {
    const key = `${this.id}-${this.incarnation}-${++this.readSeq}`;
    try {
      this.core.readIndex(Buffer.from(key, "utf8"));
    } catch (e) {
      return Promise.reject(e);
    }
    const hex = Buffer.from(key, "utf8").toString("hex");
    this.scheduleReady();
    return new Promise((resolve, reject) => {
      this.reads.set(hex, { index: null, resolve, reject });
      this.at(3000, () => {
        if (this.reads.delete(hex)) reject(new Error("read timeout"));
      });
    });
  }

  /** LiteFS's calls to its local service, with the HTTP layer's 1 s deadline (500). */
  private call(request: LeaseRequest): Promise<LeaseReply> {
    return new Promise((resolve) => {
      let done = false;
      const finish = (r: LeaseReply): void => {
        if (!done) {
          done = true;
          resolve(r);
        }
      };
      this.run(() => {
        this.at(ANSWER_DEADLINE_MS, () => finish({ kind: "error", status: 500, message: "deadline" }));
        void this.service
          .handle(request, this.sim.now, ANSWER_DEADLINE_MS - 50)
          .then(finish, (e: unknown) => finish({ kind: "error", status: 500, message: (e as Error).message }));
      });
    });
  }

  private consul(): ConsulApi {
    const expect = async (request: LeaseRequest): Promise<LeaseReply> => {
      const r = await this.call(request);
      if (r.kind === "error") throw new ConsulError(r.status, r.message);
      return r;
    };
    return {
      createSession: async (ttl) => {
        const r = await expect({
          op: "session-create",
          name: "litefs",
          node: this.id,
          ttl,
          ttlMs: this.sim.ttlMs,
          lockDelayNs: this.sim.lockDelayMs * 1e6,
          behavior: "delete",
        });
        if (r.kind !== "created") throw new Error("unexpected reply");
        return r.id;
      },
      renew: async (id) => {
        const r = await expect({ op: "session-renew", id });
        if (r.kind !== "renewed") throw new Error("unexpected reply");
        return r.session ? ({ ID: r.session.id } as SessionEntry) : null;
      },
      acquire: async (key, session, value) => {
        const r = await expect({
          op: "kv-put",
          key,
          value: Buffer.from(value).toString("base64"),
          flags: 0,
          lock: "acquire",
          session,
        });
        return r.kind === "bool" && r.value;
      },
      release: async (key, session) => {
        const r = await expect({ op: "kv-put", key, value: null, flags: 0, lock: "release", session });
        return r.kind === "bool" && r.value;
      },
      destroy: async (id) => {
        await expect({ op: "session-destroy", id, reason: "destroy" });
      },
      get: async (key) => {
        const r = await expect({ op: "kv-get", key });
        if (r.kind !== "kv" || !r.entry) return null;
        return {
          Key: key,
          Value: r.entry.value,
          Flags: 0,
          LockIndex: r.entry.lockIndex,
          CreateIndex: r.entry.createIndex,
          ModifyIndex: r.entry.modifyIndex,
        };
      },
    };
  }

  /** Virtual ms when this host's gate was last seen open (-Infinity: never). */
  lastWritableAt = -Infinity;

  /** A library write admitted by the gate may still be running (SIM_WRITE_INFLIGHT_MS). */
  writing(): boolean {
    return this.alive && this.sim.now - this.lastWritableAt <= SIM_WRITE_INFLIGHT_MS;
  }

  /** The write gate of this host's app: LiteFS primary and the published state backing it. */
  writable(): boolean {
    if (!this.alive || this.paused || !this.model.isPrimary) return false;
    const state = this.service.publishedState();
    return leaseProblem({ ok: true, state }, BigInt(Math.round(this.sim.now * 1e6))) === null;
  }
}

export class LeaseSim {
  now = 0;
  readonly rng: Rng;
  readonly ids: string[];
  readonly hosts: Host[];
  readonly recorder = new IntervalRecorder();
  readonly knobs: Partial<LeaseKnobs> | undefined;
  readonly contactKnobs: ContactKnobs;
  readonly writerViolations: string[] = [];
  /** Sessions ended for member silence while their holder's writers could still write. */
  readonly releaseViolations: string[] = [];
  readonly ttlMs: number;
  readonly lockDelayMs: number;
  /** Service events (expiries, refused renews), for failure messages. */
  readonly log: Record<string, unknown>[] = [];
  private readonly queue = new EventQueue<() => void>();
  /** Isolated hosts: no messages to or from them (Raft and forwarding). */
  readonly isolated = new Set<string>();
  /** Cut links ("a|b", both directions): no messages between those two hosts. */
  private readonly cutLinks = new Set<string>();
  events = 0;

  constructor(options: LeaseSimOptions) {
    this.rng = createRng(options.seed);
    this.knobs = options.knobs;
    this.contactKnobs = options.contactKnobs ?? {};
    this.ttlMs = options.ttlMs ?? SIM_TTL_MS;
    this.lockDelayMs = options.lockDelayMs ?? SIM_LOCK_DELAY_MS;
    this.ids = Array.from({ length: options.hosts ?? 3 }, (_, i) => `h${i + 1}`);
    this.hosts = this.ids.map((id) => new Host(id, this));
  }

  host(id: string): Host {
    return this.hosts.find((h) => h.id === id)!;
  }

  schedule(ms: number, fn: () => void): void {
    this.queue.push(this.now + ms, fn);
  }

  /** One-way cuts ("from>to"): messages from `from` to `to` are lost, the other direction works. */
  private readonly oneWayCuts = new Set<string>();
  /**
   * A message delay spike: every message to or from `hosts` (all when null) takes an extra
   * `minMs`..`maxMs` while it lasts (null: no spike).
   */
  delaySpike: { readonly minMs: number; readonly maxMs: number; readonly hosts: ReadonlySet<string> | null } | null =
    null;

  /** Whether a message from `from` reaches `to` now. */
  private linkUp(from: string, to: string): boolean {
    return (
      !this.isolated.has(from) &&
      !this.isolated.has(to) &&
      !this.cutLinks.has(linkKey(from, to)) &&
      !this.oneWayCuts.has(`${from}>${to}`)
    );
  }

  /** Cuts (or, with `up`, restores) the direction `from` -> `to` only. */
  setOneWay(from: string, to: string, up: boolean): void {
    if (up) this.oneWayCuts.delete(`${from}>${to}`);
    else this.oneWayCuts.add(`${from}>${to}`);
  }

  /** A message's delay: 1-6 ms, plus the spike's extra when one is on (no extra draw otherwise). */
  private delay(from: string, to: string): number {
    const base = 1 + this.rng.int(0, 5);
    const spike = this.delaySpike;
    if (!spike || (spike.hosts && !spike.hosts.has(from) && !spike.hosts.has(to))) return base;
    return base + this.rng.int(spike.minMs, spike.maxMs);
  }

  /** Cuts (or, with `up`, restores) the link between two hosts, both directions. */
  setLink(a: string, b: string, up: boolean): void {
    if (up) this.cutLinks.delete(linkKey(a, b));
    else this.cutLinks.add(linkKey(a, b));
  }

  send(m: Message): void {
    if (!this.linkUp(m.from, m.to) || this.rng.chance(0.01)) return;
    this.schedule(this.delay(m.from, m.to), () => {
      if (this.linkUp(m.from, m.to)) this.host(m.to).deliver(m);
    });
  }

  /** Follower -> leader forwarding over the simulated network (request and reply may be lost to a partition). */
  forward(from: Host, leader: string, request: LeaseRequest, timeoutMs: number): Promise<LeaseReply> {
    return new Promise((resolve, reject) => {
      let done = false;
      from.at(timeoutMs, () => {
        if (!done) {
          done = true;
          reject(new Error("forward timeout"));
        }
      });
      if (!this.linkUp(from.id, leader)) return;
      this.schedule(this.delay(from.id, leader), () => {
        if (!this.linkUp(from.id, leader)) return;
        this.host(leader).run(() => {
          void this.host(leader)
            .service.execute(request)
            .then((reply) => {
              this.schedule(this.delay(leader, from.id), () => {
                if (!this.linkUp(leader, from.id)) return;
                from.run(() => {
                  if (!done) {
                    done = true;
                    resolve(reply);
                  }
                });
              });
            });
        });
      });
    });
  }

  boot(): void {
    for (const h of this.hosts) h.boot();
  }

  /** Runs events until virtual time `until`, checking effective writers after every event. */
  async runUntil(until: number): Promise<void> {
    for (;;) {
      const next = this.queue.pop();
      if (!next) break;
      if (next.at > until) {
        this.queue.push(next.at, next.event);
        break;
      }
      this.now = next.at;
      this.events++;
      next.event();
      // Let the promise chains this event started settle before the next event (same instant).
      for (let i = 0; i < 12; i++) await Promise.resolve();
      const writers = this.writers();
      for (const id of writers) this.host(id).lastWritableAt = this.now;
      if (writers.length > 1) this.writerViolations.push(`${writers.join("+")} writable at ${this.now} ms`);
    }
    this.now = until;
  }

  /**
   * The rule's promise (docs/fast-failover.md): when the leader ends a session because its
   * holder member went silent, no library write on that member is admitted or in flight.
   */
  checkRelease(member: string, session: string): void {
    const h = this.host(member);
    if (h.writable() || h.writing())
      this.releaseViolations.push(
        `session ${session} of ${member} ended at ${this.now} ms while its writers could write (gate last open at ${h.lastWritableAt} ms)`,
      );
  }

  /** Hosts whose library writers are admitted now. */
  writers(): string[] {
    return this.hosts.filter((h) => h.writable()).map((h) => h.id);
  }

  /** The Raft leader (alive, not paused), if one is known. */
  leader(): string | null {
    return this.hosts.find((h) => h.alive && !h.paused && h.core.role === "leader")?.id ?? null;
  }

  primaries(): string[] {
    return this.hosts.filter((h) => h.alive && h.model.isPrimary).map((h) => h.id);
  }

  /** Primary intervals of different hosts that overlap, excluding those of a host paused during them. */
  overlaps(): [PrimaryInterval, PrimaryInterval][] {
    return this.recorder.overlaps(this.now, (i) => this.pausedDuring(i));
  }

  pausedDuring(i: PrimaryInterval): boolean {
    const end = i.end ?? this.now;
    return this.host(i.node).pauses.some(([s, e]) => s < end && (e ?? this.now) > i.start);
  }

  async waitForPrimary(limitMs: number, exclude?: string): Promise<string | null> {
    const end = this.now + limitMs;
    while (this.now < end) {
      const p = this.primaries().find((id) => id !== exclude);
      if (p) return p;
      await this.runUntil(this.now + 10);
    }
    return null;
  }
}

type LeaseFault =
  | { readonly kind: "crash"; readonly host: number; readonly downMs: number }
  | { readonly kind: "pause"; readonly host: number; readonly ms: number }
  | { readonly kind: "isolate"; readonly host: number; readonly ms: number }
  | { readonly kind: "stop"; readonly host: number; readonly downMs: number }
  | { readonly kind: "handoff"; readonly to: number };

export interface ScheduledFault {
  readonly at: number;
  readonly fault: LeaseFault;
}

/** Applies a fault schedule (virtual ms offsets from now), then heals everything. */
export async function runLeaseSchedule(
  sim: LeaseSim,
  schedule: readonly ScheduledFault[],
  tailMs: number,
): Promise<void> {
  const start = sim.now;
  const sorted = [...schedule].sort((a, b) => a.at - b.at);
  for (const { at, fault } of sorted) {
    await sim.runUntil(start + at);
    const h = sim.hosts[fault.kind === "handoff" ? fault.to : fault.host]!;
    switch (fault.kind) {
      case "crash":
        if (!h.alive) break;
        h.crash();
        sim.schedule(fault.downMs, () => {
          if (!h.alive) h.boot();
        });
        break;
      case "pause":
        if (!h.alive || h.paused) break;
        h.pause();
        sim.schedule(fault.ms, () => {
          if (h.alive && h.paused) h.resume();
        });
        break;
      case "isolate":
        sim.isolated.add(h.id);
        sim.schedule(fault.ms, () => sim.isolated.delete(h.id));
        break;
      case "stop":
        if (!h.alive || h.paused) break;
        void h.model.stop();
        sim.schedule(fault.downMs, () => {
          if (h.alive) h.model.start();
        });
        break;
      case "handoff": {
        const from = sim.hosts.find((x) => x.alive && !x.paused && x.model.isPrimary && x !== h);
        if (!from || !h.alive || h.paused) break;
        const sid = from.model.handOff();
        if (sid) h.model.takeOver(sid);
        break;
      }
    }
  }
  await sim.runUntil(start + Math.max(0, ...sorted.map((s) => s.at)) + tailMs);
  sim.isolated.clear();
  for (const h of sim.hosts) {
    if (h.paused) h.resume();
    if (!h.alive) h.boot();
  }
}

function linkKey(a: string, b: string): string {
  return a < b ? `${a}|${b}` : `${b}|${a}`;
}
