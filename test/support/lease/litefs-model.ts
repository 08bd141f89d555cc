// A TypeScript model of LiteFS v0.5's consul lease loop (docs/raft-lease.md), runnable against
// real lease-service processes (HTTP) and inside the simulator (virtual time):
//   - not primary: every 1 s try to acquire: create a session (TTL, lock-delay), then acquire the
//     key with it; on failure release+destroy that session (best effort).
//   - primary: renew every TTL/2; on 404 demote at once; on another error retry every 1 s and
//     demote once `elapsed since the last successful renew + 1 s > TTL`.
//   - clean exit: release the key, then destroy the session. Crash: nothing.
//   - handoff: the primary stops; the target renews the same session, then acquires with it.
// Primary intervals go to a shared recorder so tests can check they never overlap.

import type { ConsulApi } from "./consul-client.js";

export interface ModelClock {
  now(): number;
  sleep(ms: number): Promise<void>;
}

export interface PrimaryInterval {
  readonly node: string;
  readonly session: string;
  readonly start: number;
  end: number | null;
  endReason: string | null;
}

export class IntervalRecorder {
  readonly intervals: PrimaryInterval[] = [];

  open(node: string, session: string, at: number): PrimaryInterval {
    const i: PrimaryInterval = { node, session, start: at, end: null, endReason: null };
    this.intervals.push(i);
    return i;
  }

  /** Pairs of intervals of different nodes that overlap (open intervals end at `now`). */
  overlaps(now: number, exclude: (i: PrimaryInterval) => boolean = () => false): [PrimaryInterval, PrimaryInterval][] {
    const out: [PrimaryInterval, PrimaryInterval][] = [];
    const list = this.intervals.filter((i) => !exclude(i));
    for (let a = 0; a < list.length; a++) {
      for (let b = a + 1; b < list.length; b++) {
        const x = list[a]!;
        const y = list[b]!;
        if (x.node === y.node) continue;
        if (x.start < (y.end ?? now) && y.start < (x.end ?? now)) out.push([x, y]);
      }
    }
    return out;
  }

  current(): PrimaryInterval[] {
    return this.intervals.filter((i) => i.end === null);
  }
}

export interface LiteFSModelOptions {
  readonly name: string;
  readonly consul: () => ConsulApi;
  readonly clock: ModelClock;
  readonly recorder: IntervalRecorder;
  readonly key?: string;
  /** Go duration string sent as TTL, and its ms value. */
  readonly ttl: string;
  readonly ttlMs: number;
  /** As the api client sends it ("1000ms"). */
  readonly lockDelay?: string;
  readonly retryMs?: number;
}

export class LiteFSLeaseModel {
  private running = false;
  private session: string | null = null;
  private renewedAt = 0;
  private interval: PrimaryInterval | null = null;
  private loop: Promise<void> | null = null;
  private handoffSession: string | null = null;
  /** Increments on crash/stop so a loop blocked in a call notices it belongs to a dead process. */
  private generation = 0;

  constructor(private readonly o: LiteFSModelOptions) {}

  get name(): string {
    return this.o.name;
  }
  get isPrimary(): boolean {
    return this.interval !== null;
  }
  get sessionId(): string | null {
    return this.session;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    const gen = ++this.generation;
    this.loop = this.run(gen).catch(() => {});
  }

  /** SIGKILL: the process vanishes; its session is left to expire. */
  crash(): void {
    this.running = false;
    this.generation++;
    this.demote("crashed");
    this.session = null;
  }

  /** Clean exit: release the key, then destroy the session. */
  async stop(): Promise<void> {
    this.running = false;
    this.generation++;
    const sid = this.session;
    const wasPrimary = this.isPrimary;
    this.demote("stopped");
    this.session = null;
    if (sid && wasPrimary) {
      try {
        await this.o.consul().release(this.key, sid);
      } catch {
        // logged by LiteFS, ignored
      }
    }
    if (sid) {
      try {
        await this.o.consul().destroy(sid);
      } catch {
        // ignored
      }
    }
  }

  /** Primary side of a handoff: stop being primary and give the session away. */
  handOff(): string | null {
    if (!this.isPrimary || !this.session) return null;
    const sid = this.session;
    this.demote("handoff");
    this.session = null;
    return sid;
  }

  /** Target side of a handoff: renew the given session, then acquire the key with it. */
  takeOver(session: string): void {
    this.handoffSession = session;
  }

  async join(): Promise<void> {
    await this.loop;
  }

  private get key(): string {
    return this.o.key ?? "litefs/primary";
  }

  private get retry(): number {
    return this.o.retryMs ?? 1000;
  }

  private demote(reason: string): void {
    if (this.interval) {
      this.interval.end = this.o.clock.now();
      this.interval.endReason = reason;
    }
    this.interval = null;
  }

  private alive(gen: number): boolean {
    return this.running && gen === this.generation;
  }

  private value(): string {
    return JSON.stringify({ hostname: this.o.name, "advertise-url": `http://${this.o.name}:20202` });
  }

  private async run(gen: number): Promise<void> {
    const { clock } = this.o;
    while (this.alive(gen)) {
      if (!this.isPrimary) {
        await this.tryAcquire(gen);
        if (!this.isPrimary) await clock.sleep(this.retry);
        continue;
      }
      // Primary: renew every TTL/2; on errors every 1 s until the TTL is nearly used up.
      let wait = this.o.ttlMs / 2;
      while (this.alive(gen) && this.isPrimary) {
        await clock.sleep(wait);
        if (!this.alive(gen) || !this.isPrimary) break;
        try {
          const entry = await this.o.consul().renew(this.session!);
          if (!this.alive(gen) || !this.isPrimary) break;
          if (entry === null) {
            this.demote("renew 404");
            this.session = null;
            break;
          }
          this.renewedAt = clock.now();
          wait = this.o.ttlMs / 2;
        } catch {
          if (!this.alive(gen) || !this.isPrimary) break;
          if (clock.now() - this.renewedAt + 1000 > this.o.ttlMs) {
            this.demote("renew failing for TTL - 1 s");
            this.session = null;
            break;
          }
          wait = 1000;
        }
      }
    }
  }

  private async tryAcquire(gen: number): Promise<void> {
    const { clock } = this.o;
    const consul = this.o.consul();
    const handoff = this.handoffSession;
    this.handoffSession = null;
    let sid: string | null = null;
    try {
      if (handoff) {
        const entry = await consul.renew(handoff);
        if (!entry) return;
        sid = handoff;
      } else {
        sid = await consul.createSession(this.o.ttl, this.o.lockDelay ?? "1000ms");
      }
      if (!this.alive(gen)) return;
      this.renewedAt = clock.now();
      const ok = await consul.acquire(this.key, sid, this.value());
      if (!this.alive(gen)) return;
      if (ok) {
        this.session = sid;
        this.interval = this.o.recorder.open(this.o.name, sid, clock.now());
        return;
      }
      await this.cleanup(consul, sid, gen);
    } catch {
      if (sid && this.alive(gen)) await this.cleanup(consul, sid, gen);
    }
  }

  private async cleanup(consul: ConsulApi, sid: string, gen: number): Promise<void> {
    if (!this.alive(gen)) return;
    try {
      await consul.release(this.key, sid);
      await consul.destroy(sid);
    } catch {
      // the TTL removes it eventually
    }
  }
}
