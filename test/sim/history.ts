// Client history and the linearizability check for KV reads. The log gives a total order of
// writes (each value remembers the index that wrote it), so a read is linearizable here iff its
// value was written by a put that had been invoked before the read returned, and it is not older
// than any put to that key that was acknowledged before the read was invoked.
import type { SafetyChecker } from "./checker.js";

interface WriteRecord {
  key: string;
  invokedAt: number;
  ackedAt: number | null;
  index: number | null;
}

export class KvHistory {
  private writes = new Map<string, WriteRecord>();
  private ackedByKey = new Map<string, { index: number; ackedAt: number }[]>();
  readsChecked = 0;
  writesAcked = 0;

  constructor(private readonly checker: SafetyChecker) {}

  invokeWrite(value: string, key: string, at: number): void {
    this.writes.set(value, { key, invokedAt: at, ackedAt: null, index: null });
  }

  ackWrite(value: string, index: number, at: number): void {
    const w = this.writes.get(value);
    if (!w || w.ackedAt !== null) return;
    w.ackedAt = at;
    w.index = index;
    this.writesAcked++;
    const list = this.ackedByKey.get(w.key) ?? [];
    list.push({ index, ackedAt: at });
    this.ackedByKey.set(w.key, list);
  }

  /** A read of `key` invoked at `invokedAt` returned `value` (written at log index `index`) at `at`. */
  completeRead(key: string, invokedAt: number, value: string | null, index: number, at: number, node: string): void {
    this.readsChecked++;
    if (value !== null) {
      const w = this.writes.get(value);
      if (!w || w.invokedAt > at || w.key !== key) {
        this.checker.report(
          "linearizability",
          at,
          `read of ${key} on ${node} returned ${value}, which was never proposed for it`,
        );
        return;
      }
    }
    let newest = 0;
    for (const a of this.ackedByKey.get(key) ?? []) if (a.ackedAt < invokedAt && a.index > newest) newest = a.index;
    if (index < newest) {
      this.checker.report(
        "linearizability",
        at,
        `stale read of ${key} on ${node}: returned the write at index ${index} (${value ?? "nothing"}) but the write at index ${newest} was acknowledged before the read started`,
      );
    }
  }
}
