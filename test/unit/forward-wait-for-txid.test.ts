// waitForTxid against the cases litefs-js's waitForUpToDateTxNumber gets wrong: hex compared as
// strings or doubles, answering before the position is reached, other databases' events.
import { EventEmitter } from "node:events";
import { describe, expect, it } from "vitest";
import { bindWaitForTxid, waitForTxid, type TxidSource } from "../../src/forward/wait-for-txid.js";
import type { TxNotice } from "../../src/node/node.js";

/** A node whose position moves only when a tx event is applied, like the real one. */
class TxNode extends EventEmitter implements TxidSource {
  private readonly positions = new Map<string, bigint>();
  listenersAdded = 0;
  constructor(initial: Record<string, bigint> = {}) {
    super();
    for (const [db, txid] of Object.entries(initial)) this.positions.set(db, txid);
  }
  txid(db = "db"): bigint | null {
    return this.positions.get(db) ?? null;
  }
  apply(db: string, txid: bigint): void {
    this.positions.set(db, txid);
    this.emit("tx", { db, txid } satisfies TxNotice);
  }
  override on(event: string, fn: (...args: never[]) => void): this {
    if (event === "tx") this.listenersAdded++;
    return super.on(event, fn as (...args: unknown[]) => void);
  }
}

const later = (ms: number, fn: () => void): NodeJS.Timeout => setTimeout(fn, ms);

describe("waitForTxid", () => {
  it("answers true at once when already caught up (equal or ahead), without subscribing", async () => {
    const node = new TxNode({ db: 4n });
    await expect(waitForTxid(node, "db", 4n, { timeoutMs: 1000 })).resolves.toBe(true);
    await expect(waitForTxid(node, "db", "0000000000000003", { timeoutMs: 1000 })).resolves.toBe(true);
    expect(node.listenersAdded).toBe(0);
  });

  it("resolves promptly once a tx event reaches the position", async () => {
    const node = new TxNode({ db: 1n });
    const started = Date.now();
    later(50, () => node.apply("db", 2n));
    later(100, () => node.apply("db", 3n));
    const reached = await waitForTxid(node, "db", 3n, { timeoutMs: 5000 });
    const elapsed = Date.now() - started;
    expect(reached).toBe(true);
    expect(elapsed).toBeGreaterThanOrEqual(90);
    expect(elapsed).toBeLessThan(1000);
    expect(node.listenerCount("tx")).toBe(0);
  });

  it("does not answer before the position: an intermediate tx is not enough", async () => {
    const node = new TxNode({ db: 1n });
    later(20, () => node.apply("db", 2n));
    const reached = await waitForTxid(node, "db", 3n, { timeoutMs: 200 });
    expect(reached).toBe(false);
    expect(node.txid("db")).toBe(2n);
  });

  it("compares as bigint, not as strings: 0x0a is behind 0x10", async () => {
    // As strings "a" > "10"; as padded strings it happens to work, so test the unpadded form too.
    const node = new TxNode({ db: 0xan });
    await expect(waitForTxid(node, "db", "10", { timeoutMs: 100 })).resolves.toBe(false);
    await expect(waitForTxid(node, "db", "0000000000000010", { timeoutMs: 100 })).resolves.toBe(false);
    later(20, () => node.apply("db", 0x10n));
    await expect(waitForTxid(node, "db", "10", { timeoutMs: 2000 })).resolves.toBe(true);
  });

  it("compares as bigint, not as doubles: past 2^53 the low bit matters", async () => {
    const node = new TxNode({ db: 0x20000000000000n });
    expect(Number(0x20000000000000n)).toBe(Number(0x20000000000001n)); // what a double-based check sees
    await expect(waitForTxid(node, "db", "0020000000000001", { timeoutMs: 100 })).resolves.toBe(false);
    later(20, () => node.apply("db", 0x20000000000001n));
    await expect(waitForTxid(node, "db", 0x20000000000001n, { timeoutMs: 2000 })).resolves.toBe(true);
  });

  it("ignores tx events of other databases", async () => {
    const node = new TxNode({ db: 1n, other: 1n });
    later(20, () => node.apply("other", 100n));
    await expect(waitForTxid(node, "db", 5n, { timeoutMs: 150 })).resolves.toBe(false);
  });

  it("waits on a database with no known position yet", async () => {
    const node = new TxNode();
    later(20, () => node.apply("db", 1n));
    await expect(waitForTxid(node, "db", 1n, { timeoutMs: 2000 })).resolves.toBe(true);
  });

  it("times out with false after about timeoutMs, and unsubscribes", async () => {
    const node = new TxNode({ db: 1n });
    const started = Date.now();
    await expect(waitForTxid(node, "db", 2n, { timeoutMs: 150 })).resolves.toBe(false);
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);
    expect(node.listenerCount("tx")).toBe(0);
  });

  it("stops on abort", async () => {
    const node = new TxNode({ db: 1n });
    const controller = new AbortController();
    later(20, () => controller.abort());
    const started = Date.now();
    await expect(waitForTxid(node, "db", 2n, { timeoutMs: 5000, signal: controller.signal })).resolves.toBe(false);
    expect(Date.now() - started).toBeLessThan(1000);
    expect(node.listenerCount("tx")).toBe(0);
  });

  it("rejects bad input with a clear error", async () => {
    const node = new TxNode({ db: 1n });
    expect(() => waitForTxid(node, "db", "not-hex")).toThrow(/not a TXID/);
    await expect(waitForTxid(node, "db", 2n, { timeoutMs: -1 })).rejects.toThrow(/timeoutMs/);
  });

  it("bindWaitForTxid gives the (db, txid, { timeoutMs }) shape", async () => {
    const node = new TxNode({ db: 7n });
    const wait = bindWaitForTxid(node);
    await expect(wait("db", 7n, { timeoutMs: 10 })).resolves.toBe(true);
    await expect(wait("db", 8n, { timeoutMs: 10 })).resolves.toBe(false);
  });
});
