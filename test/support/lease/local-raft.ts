// Test doubles for the lease service's injected dependencies:
//   - ManualClock: monotonic ms advanced by hand, with timers that fire in order on advance().
//   - SingleNodeRaft: a one-member "Raft" that commits and applies each proposal at once (the real
//     LeaseStateMachine does the work); switchable to follower / no leader / stalled, to drive
//     the service's forwarding, 500-on-deadline and leader-change paths.
import { NotLeaderError } from "../../../src/raft/errors.js";
import type { RaftRole } from "../../../src/raft/core.js";
import { LeaseService, type LeaseServiceEvent, type LeaseServiceOptions } from "../../../src/lease/service.js";
import { LeaseStateMachine, type LeaseResult } from "../../../src/lease/state-machine.js";
import type { LeaseClock, PublishedLeaseState, RaftPort } from "../../../src/lease/types.js";

class ManualClock implements LeaseClock {
  private t = 1_000_000;
  private seq = 0;
  private timers = new Map<number, { at: number; fn: () => void }>();

  now(): number {
    return this.t;
  }
  setTimer(fn: () => void, ms: number): unknown {
    const id = ++this.seq;
    this.timers.set(id, { at: this.t + ms, fn });
    return id;
  }
  clearTimer(handle: unknown): void {
    this.timers.delete(handle as number);
  }
  /** Moves time forward, firing due timers in time order (and letting their promises settle). */
  async advance(ms: number): Promise<void> {
    const end = this.t + ms;
    for (;;) {
      let next: [number, { at: number; fn: () => void }] | null = null;
      for (const e of this.timers) if (e[1].at <= end && (!next || e[1].at < next[1].at)) next = e;
      if (!next) break;
      this.timers.delete(next[0]);
      this.t = Math.max(this.t, next[1].at);
      next[1].fn();
      await flush();
    }
    this.t = end;
    await flush();
  }
}

export async function flush(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise<void>((r) => setImmediate(r));
}

export class SingleNodeRaft implements RaftPort {
  index = 0;
  term = 1;
  role: RaftRole = "leader";
  leader: string | null = "self";
  /** While true, proposals and reads never settle (no quorum). */
  stalled = false;
  reads = 0;

  constructor(private readonly sm: LeaseStateMachine) {}

  propose(data: Uint8Array): Promise<LeaseResult> {
    if (this.role !== "leader") return Promise.reject(new NotLeaderError("self", this.leader, "accept a proposal"));
    if (this.stalled) return new Promise(() => {});
    this.index++;
    return Promise.resolve(this.sm.apply({ term: this.term, index: this.index, type: "normal", data }));
  }
  read(): Promise<void> {
    this.reads++;
    if (this.stalled || this.leader === null)
      return this.stalled ? new Promise(() => {}) : Promise.reject(new NotLeaderError("self", null, "serve a read"));
    return Promise.resolve();
  }
  status(): { id: string; term: number; role: RaftRole; leader: string | null } {
    return { id: "self", term: this.term, role: this.role, leader: this.leader };
  }
  /** Member -> clock ms of its last message; a single node hears no one unless a test says so. */
  readonly heard = new Map<string, number>();
  heardFrom(member: string): number | null {
    return this.heard.get(member) ?? null;
  }
  /** What RaftPort.takeoverBound answers (null: count from the takeover). */
  takeover: number | null = null;
  takeoverBound(): number | null {
    return this.takeover;
  }
}

/**
 * A LeaseService on `clock` and a SingleNodeRaft ("self", leader of term 1), for node "node-a"
 * serving the key "litefs/primary"; `options` override the service's options.
 */
export function leaseServiceOn(clock: LeaseClock, options: Partial<LeaseServiceOptions> = {}) {
  let service: LeaseService | null = null;
  const sm = new LeaseStateMachine({ now: () => clock.now(), onChange: (c) => service?.onStateChange(c) });
  const raft = new SingleNodeRaft(sm);
  const events: LeaseServiceEvent[] = [];
  const published: PublishedLeaseState[] = [];
  service = new LeaseService({
    raft,
    stateMachine: sm,
    clock,
    nodeName: "node-a",
    leaseKey: "litefs/primary",
    publish: (s) => published.push(s),
    onEvent: (e) => events.push(e),
    ...options,
  });
  service.onRoleChange("leader", raft.term);
  return { sm, raft, service, events, published };
}

/** leaseServiceOn a ManualClock the test advances. */
export function localLeaseService(options: Partial<LeaseServiceOptions> = {}) {
  const clock = new ManualClock();
  return { clock, ...leaseServiceOn(clock, options) };
}
