// The deterministic simulator: one event queue, virtual time in ms, a seeded PRNG, per-node clock
// drift, a network with delay/loss/duplication/reordering and (one-way) partitions, crashes that
// drop unsynced writes, process pauses, and KV clients whose reads go through ReadIndex. Safety
// invariants are checked as events run; after the chaos phase everything heals and a leader must
// appear within a bounded virtual time.
import type { SafetyKnobs } from "../../src/raft/knobs.js";
import { majority } from "../../src/raft/quorum.js";
import type { Message } from "../../src/raft/types.js";
import { SafetyChecker, type Violation } from "./checker.js";
import { EventQueue } from "./event-queue.js";
import { KvHistory } from "./history.js";
import { SimNode, type NodeEnv } from "./node.js";
import { createRng, type Rng } from "./prng.js";
import type { Fault, Scenario } from "./scenario.js";
import { startClients } from "./clients.js";

export interface SimOptions {
  readonly knobs?: Partial<SafetyKnobs>;
  readonly preVote?: boolean;
  readonly checkQuorum?: boolean;
  /** Virtual ms after the heal within which a leader must be established. */
  readonly livenessMs?: number;
}

export interface SimResult {
  readonly scenario: Scenario;
  readonly violations: readonly Violation[];
  readonly events: number;
  readonly virtualMs: number;
  readonly writesAcked: number;
  readonly readsChecked: number;
  /** Virtual ms from the heal to an established leader (null if none). */
  readonly leaderAfterHealMs: number | null;
}

type SimEvent =
  | { kind: "tick"; node: number }
  | { kind: "deliver"; m: Message }
  | { kind: "sync"; node: number; incarnation: number }
  | { kind: "fault"; fault: Fault }
  | { kind: "resume"; node: number; incarnation: number; pauseId: number }
  | { kind: "call"; fn: () => void };

const TICK_MS = 10;
const ELECTION_TICK = 10;
const HEARTBEAT_TICK = 1;
const MAX_EVENTS = 100_000;

export class Simulation implements Pick<NodeEnv, "now"> {
  readonly rng: Rng;
  readonly queue = new EventQueue<SimEvent>();
  readonly checker = new SafetyChecker();
  readonly history = new KvHistory(this.checker);
  readonly nodes: SimNode[] = [];
  private time = 0;
  private readonly drift: number[] = [];
  private cuts = new Set<string>();
  private lossRate = 0;
  private dupRate = 0;
  /** Since when each node has been up and running (Infinity while down or paused). */
  private upSince: number[] = [];
  /** Since when each directed link has been open. */
  private linkSince = new Map<string, number>();
  private losslessSince = 0;
  private leaderSince: (number | null)[] = [];
  /** Term -> when a pre-vote for it was first granted (see checkDeposal). */
  private preVoteGrantedAt = new Map<number, number>();
  private prev: { role: string; term: number }[] = [];
  private pauseIds: number[] = [];
  private healed = false;
  private healAt = 0;
  private leaderAfterHealMs: number | null = null;
  private readonly options: SimOptions;

  constructor(
    readonly scenario: Scenario,
    options: SimOptions = {},
  ) {
    this.options = options;
    this.rng = createRng(scenario.seed);
    const ids = Array.from({ length: scenario.nodes }, (_, i) => `n${i + 1}`);
    const env: NodeEnv = {
      now: () => this.time,
      send: (from, m) => this.send(from, m),
      scheduleSync: (node) => {
        const i = this.nodes.indexOf(node);
        this.queue.push(this.time + 0.2 + this.rng.next() * 3, {
          kind: "sync",
          node: i,
          incarnation: node.incarnation,
        });
      },
      checker: this.checker,
      clusterId: "sim",
      voters: ids,
      electionTick: ELECTION_TICK,
      heartbeatTick: HEARTBEAT_TICK,
      maxEntriesPerMessage: scenario.maxEntriesPerMessage,
      compactEvery: scenario.compactEvery,
      preVote: options.preVote ?? true,
      checkQuorum: options.checkQuorum ?? true,
      knobs: options.knobs ?? {},
      random: () => this.rng.next(),
      committed: (index, term) =>
        this.checker.checkCommitted(
          index,
          term,
          this.nodes.map((n) => n.logView()),
          majority(this.nodes.length),
          this.time,
        ),
    };
    for (let i = 0; i < scenario.nodes; i++) {
      this.nodes.push(new SimNode(ids[i]!, env));
      this.drift.push(0.95 + this.rng.next() * 0.1); // +-5% clock rate
      this.upSince.push(0);
      this.leaderSince.push(null);
      this.prev.push({ role: "follower", term: 0 });
      this.pauseIds.push(0);
    }
    for (const a of ids) for (const b of ids) if (a !== b) this.linkSince.set(`${a}>${b}`, 0);
  }

  now(): number {
    return this.time;
  }

  run(): SimResult {
    const livenessMs = this.options.livenessMs ?? 3000;
    for (const n of this.nodes) n.boot();
    for (let i = 0; i < this.nodes.length; i++) this.queue.push(this.rng.next() * TICK_MS, { kind: "tick", node: i });
    for (const f of this.scenario.faults) this.queue.push(f.at, { kind: "fault", fault: f.fault });
    this.queue.push(this.scenario.chaosMs, { kind: "call", fn: () => this.healAll() });
    startClients(this, this.scenario.clients);
    const end = this.scenario.chaosMs + livenessMs;
    let events = 0;
    while (events < MAX_EVENTS) {
      const next = this.queue.pop();
      if (!next || next.at > end) break;
      this.time = next.at;
      events++;
      this.dispatch(next.event);
      this.afterEvent();
      if (this.checker.violations.length > 0) break;
      if (this.healed && this.leaderAfterHealMs !== null) break;
    }
    if (this.checker.violations.length === 0 && this.leaderAfterHealMs === null) {
      this.checker.report(
        "liveness",
        this.time,
        `no leader established within ${livenessMs}ms after the heal at ${this.healAt}ms (live majority, healed network)`,
      );
    }
    return {
      scenario: this.scenario,
      violations: this.checker.violations,
      events,
      virtualMs: this.time,
      writesAcked: this.history.writesAcked,
      readsChecked: this.history.readsChecked,
      leaderAfterHealMs: this.leaderAfterHealMs,
    };
  }

  schedule(delayMs: number, fn: () => void): void {
    this.queue.push(this.time + delayMs, { kind: "call", fn });
  }

  private dispatch(ev: SimEvent): void {
    switch (ev.kind) {
      case "tick": {
        const node = this.nodes[ev.node]!;
        node.tick();
        this.checkStaleLeader(node);
        this.queue.push(this.time + TICK_MS * this.drift[ev.node]!, ev);
        return;
      }
      case "deliver": {
        const to = this.nodeById(ev.m.to);
        if (this.cuts.has(`${ev.m.from}>${ev.m.to}`)) return; // cut while in flight
        to?.deliver(ev.m);
        return;
      }
      case "sync":
        this.nodes[ev.node]!.syncDone(ev.incarnation);
        return;
      case "fault":
        this.applyFault(ev.fault);
        return;
      case "resume":
        if (this.nodes[ev.node]!.incarnation === ev.incarnation && this.pauseIds[ev.node] === ev.pauseId)
          this.resume(ev.node);
        return;
      case "call":
        ev.fn();
        return;
    }
  }

  private send(_from: SimNode, m: Message): void {
    if (m.type === "preVoteResp" && !m.reject && !this.preVoteGrantedAt.has(m.term))
      this.preVoteGrantedAt.set(m.term, this.time);
    if (this.cuts.has(`${m.from}>${m.to}`)) return;
    if (this.lossRate > 0 && this.rng.chance(this.lossRate)) return;
    const copies = this.dupRate > 0 && this.rng.chance(this.dupRate) ? 2 : 1;
    for (let c = 0; c < copies; c++) {
      // Mostly 0.5-5 ms; one in ten is slow (up to 40 ms more), which reorders messages.
      let delay = 0.5 + this.rng.next() * 4.5;
      if (this.rng.chance(0.1)) delay += this.rng.next() * 40;
      this.queue.push(this.time + delay, { kind: "deliver", m });
    }
  }

  private nodeById(id: string): SimNode | undefined {
    return this.nodes.find((n) => n.id === id);
  }

  // ------------------------------------------------------------------ faults

  private applyFault(f: Fault): void {
    const ids = this.nodes.map((n) => n.id);
    switch (f.kind) {
      case "partition":
        this.setCuts(new Set());
        for (const g of f.groups) {
          for (const h of f.groups) {
            if (g === h) continue;
            for (const a of g) for (const b of h) this.cut(ids[a]!, ids[b]!);
          }
        }
        return;
      case "cut":
        this.cut(ids[f.from]!, ids[f.to]!);
        return;
      case "heal":
        this.setCuts(new Set());
        return;
      case "crash": {
        const n = this.nodes[f.node]!;
        if (!n.alive) return;
        n.crash();
        this.upSince[f.node] = Infinity;
        return;
      }
      case "restart": {
        const n = this.nodes[f.node]!;
        if (n.alive) return;
        n.boot();
        this.upSince[f.node] = this.time;
        return;
      }
      case "pause": {
        const n = this.nodes[f.node]!;
        if (!n.alive || n.paused) return;
        n.pause();
        this.upSince[f.node] = Infinity;
        const pauseId = ++this.pauseIds[f.node]!;
        this.queue.push(this.time + f.ms, { kind: "resume", node: f.node, incarnation: n.incarnation, pauseId });
        return;
      }
      case "loss":
        this.lossRate = f.rate;
        if (f.rate === 0 && this.losslessSince === Infinity) this.losslessSince = this.time;
        if (f.rate > 0) this.losslessSince = Infinity;
        return;
      case "duplicate":
        this.dupRate = f.rate;
        return;
      case "crash-leader":
      case "isolate-leader": {
        const leader = this.nodes.findIndex((n) => n.alive && n.core?.role === "leader");
        if (leader < 0) return;
        if (f.kind === "crash-leader") this.applyFault({ kind: "crash", node: leader });
        else
          this.applyFault({
            kind: "partition",
            groups: [[leader], this.nodes.map((_, i) => i).filter((i) => i !== leader)],
          });
        return;
      }
    }
  }

  private resume(i: number): void {
    const n = this.nodes[i]!;
    if (!n.alive || !n.paused) return;
    n.resume();
    this.upSince[i] = this.time;
  }

  private cut(a: string, b: string): void {
    this.cuts.add(`${a}>${b}`);
    this.linkSince.set(`${a}>${b}`, Infinity);
  }

  private setCuts(next: Set<string>): void {
    for (const k of this.cuts) if (!next.has(k)) this.linkSince.set(k, this.time);
    this.cuts = next;
  }

  private healAll(): void {
    this.setCuts(new Set());
    this.applyFault({ kind: "loss", rate: 0 });
    this.dupRate = 0;
    for (let i = 0; i < this.nodes.length; i++) {
      const n = this.nodes[i]!;
      if (!n.alive) this.applyFault({ kind: "restart", node: i });
      else if (n.paused) this.resume(i);
    }
    this.healed = true;
    this.healAt = this.time;
  }

  // ------------------------------------------------------------------ per-event checks

  private afterEvent(): void {
    for (let i = 0; i < this.nodes.length; i++) {
      const n = this.nodes[i]!;
      const core = n.core;
      const prev = this.prev[i]!;
      const role = core && n.alive ? core.role : "down";
      const term = core?.term ?? prev.term;
      if (prev.role === "leader" && (role !== "leader" || term !== prev.term))
        this.checkDeposal(i, prev.term, role, term);
      if (core && role === "leader") {
        if (prev.role !== "leader" || term !== prev.term) {
          this.leaderSince[i] = this.time;
          n.leaderTerm = term;
          for (const p of this.nodes) n.contact.set(p.id, n.ticks);
        }
        this.checker.observeLeader(n.id, term, this.time);
        this.checker.checkLeaderCompleteness(
          n.id,
          term,
          (x) => core.termAt(x),
          core.lastIndex,
          () => core.status().snapshotIndex,
          this.time,
        );
      } else {
        this.leaderSince[i] = null;
      }
      prev.role = role;
      prev.term = term;
    }
    if (this.healed && this.leaderAfterHealMs === null && this.establishedLeader()) {
      this.leaderAfterHealMs = this.time - this.healAt;
    }
  }

  /** After the heal: a leader followed by a majority in its term that has committed in its term. */
  private establishedLeader(): boolean {
    for (const n of this.nodes) {
      const core = n.core;
      if (!core || core.role !== "leader" || core.termAt(core.commitIndex) !== core.term) continue;
      const followers = this.nodes.filter((p) => p.core && p.core.term === core.term && p.core.leader === n.id).length;
      if (followers >= majority(this.nodes.length)) return true;
    }
    return false;
  }

  /**
   * CheckQuorum property: a leader that has not heard from a majority for more than an election
   * timeout of its own ticks (plus slack) must have stepped down.
   */
  private checkStaleLeader(n: SimNode): void {
    const core = n.core;
    if (!core || core.role !== "leader" || !n.alive) return;
    let recent = 1;
    for (const p of this.nodes) {
      if (p.id === n.id) continue;
      if (n.ticks - (n.contact.get(p.id) ?? -Infinity) <= ELECTION_TICK + 1) recent++;
    }
    if (recent < majority(this.nodes.length)) {
      this.checker.report(
        "stale-leader",
        this.time,
        `${n.id} still leads term ${core.term} after more than ${ELECTION_TICK + 1} ticks without hearing from a majority`,
      );
    }
  }

  /**
   * PreVote/CheckQuorum non-disruption property, stated as PreVote guarantees it: a leader that
   * has been in office for a while and whose majority has been up and fully connected without loss
   * for a while is never deposed by a candidacy that was pre-voted while it was in office (a node
   * in contact with a leader refuses pre-votes, so no such candidacy can gather a majority).
   *
   * What PreVote does not promise: a node that has no leader (a candidate, or one just resumed
   * from a pause) grants pre-votes, as etcd's PreVote does. Pause seed 6143: n3, a candidate in
   * term 3, was frozen with n1's pre-vote request for term 4 queued; on resume it granted it and,
   * in the same instant, won term 3. n1 then campaigned in term 4 with a pre-vote majority that
   * predates n3's leadership and, once the link healed, deposed it. Safe, and allowed: a term is
   * excused when a pre-vote for it (or a term between) was granted before the leader took office.
   */
  private checkDeposal(i: number, oldTerm: number, role: string, term: number): void {
    if (role === "down") return;
    const since = this.leaderSince[i] ?? null;
    if (since !== null) {
      for (let t = oldTerm + 1; t <= term; t++) if ((this.preVoteGrantedAt.get(t) ?? Infinity) <= since) return;
    }
    const window = 4 * ELECTION_TICK * TICK_MS; // 2 x the longest randomized election timeout
    const horizon = this.time - window;
    if (since === null || since > horizon || this.losslessSince > horizon || this.upSince[i]! > horizon) return;
    const ids = this.nodes.map((n) => n.id);
    const healthy = (a: number, b: number): boolean =>
      (this.linkSince.get(`${ids[a]}>${ids[b]}`) ?? Infinity) <= horizon &&
      (this.linkSince.get(`${ids[b]}>${ids[a]}`) ?? Infinity) <= horizon;
    const group = [i];
    for (let j = 0; j < this.nodes.length; j++) {
      if (j !== i && this.upSince[j]! <= horizon && group.every((g) => healthy(g, j))) group.push(j);
    }
    if (group.length < majority(this.nodes.length)) return;
    this.checker.report(
      "disruption",
      this.time,
      `healthy leader ${ids[i]} (term ${oldTerm}, connected majority ${group.map((g) => ids[g]).join(",")}) was deposed (now ${role} in term ${term})`,
    );
  }
}

export function simulate(scenario: Scenario, options: SimOptions = {}): SimResult {
  return new Simulation(scenario, options).run();
}
