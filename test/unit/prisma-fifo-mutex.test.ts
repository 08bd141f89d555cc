import { describe, expect, it } from "vitest";
import { FifoMutex } from "../../src/driver/prisma/fifo-mutex.js";

describe("FifoMutex", () => {
  it("grants the lock in arrival order and hands it over without a gap", async () => {
    const mutex = new FifoMutex();
    const order: number[] = [];
    const first = mutex.tryAcquire();
    expect(first).not.toBeNull();
    const waiters = [1, 2, 3].map((n) =>
      mutex.acquire().then((release) => {
        order.push(n);
        // While a waiter holds it, nobody can barge in.
        expect(mutex.tryAcquire()).toBeNull();
        release();
      }),
    );
    expect(mutex.waiting).toBe(3);
    first!();
    // Handed straight to waiter 1: still locked, tryAcquire cannot jump the queue.
    expect(mutex.locked).toBe(true);
    expect(mutex.tryAcquire()).toBeNull();
    await Promise.all(waiters);
    expect(order).toEqual([1, 2, 3]);
    expect(mutex.locked).toBe(false);
    expect(mutex.waiting).toBe(0);
  });

  it("a release called twice frees the lock only once", async () => {
    const mutex = new FifoMutex();
    const release = await mutex.acquire();
    let secondGot = false;
    const second = mutex.acquire().then((r) => {
      secondGot = true;
      return r;
    });
    release();
    const secondRelease = await second;
    expect(secondGot).toBe(true);
    release(); // stale: must not free the second owner's lock
    expect(mutex.locked).toBe(true);
    expect(mutex.tryAcquire()).toBeNull();
    secondRelease();
    expect(mutex.locked).toBe(false);
  });
});
