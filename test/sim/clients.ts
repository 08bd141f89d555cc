// Simulated KV clients: each runs one operation at a time against some node (the last leader it
// heard of, else a random one): puts are proposals acknowledged when applied on the node that
// proposed them; gets go through ReadIndex. Every completed read is checked for linearizability.
import type { Simulation } from "./simulator.js";

const KEYS = ["x", "y"];
const TIMEOUT_MS = 150;

export function startClients(sim: Simulation, count: number): void {
  for (let c = 0; c < count; c++) new Client(sim, c).schedule(5 + sim.rng.next() * 20);
}

class Client {
  private seq = 0;
  private hint: string | null = null;
  private current = 0;

  constructor(
    private readonly sim: Simulation,
    private readonly id: number,
  ) {}

  schedule(ms: number): void {
    this.sim.schedule(ms, () => this.step());
  }

  private pickNode() {
    const byHint = this.hint ? this.sim.nodes.find((n) => n.id === this.hint) : undefined;
    return byHint ?? this.sim.rng.pick(this.sim.nodes);
  }

  private step(): void {
    const op = ++this.current;
    const node = this.pickNode();
    const key = this.sim.rng.pick(KEYS);
    const done = (retryMs: number): void => {
      if (this.current !== op) return; // timed out already
      this.current++;
      this.schedule(retryMs);
    };
    // Give up on an answer that never comes (node crashed, request lost with leadership).
    this.sim.schedule(TIMEOUT_MS, () => {
      if (this.current === op) {
        this.hint = null;
        done(1);
      }
    });
    if (this.sim.rng.chance(0.5)) {
      const value = `c${this.id}-${++this.seq}`;
      this.sim.history.invokeWrite(value, key, this.sim.now());
      const accepted = node.put(key, value, value, (r) => {
        if (r.ok) {
          this.hint = node.id; // stick with the node that served us
          this.sim.history.ackWrite(value, r.index, this.sim.now());
          done(2 + this.sim.rng.next() * 20);
        } else {
          this.hint = r.leader;
          done(5);
        }
      });
      if (!accepted) {
        this.hint = null;
        done(10);
      }
    } else {
      const invokedAt = this.sim.now();
      const ctx = `c${this.id}-r${++this.seq}`;
      const accepted = node.get(key, ctx, (r) => {
        if (r.ok) {
          this.hint = node.id;
          this.sim.history.completeRead(key, invokedAt, r.value, r.index, this.sim.now(), node.id);
          done(2 + this.sim.rng.next() * 20);
        } else {
          this.hint = r.leader;
          done(5);
        }
      });
      if (!accepted) {
        this.hint = null;
        done(10);
      }
    }
  }
}
