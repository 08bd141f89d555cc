// One lock over every operation of the adapter's single connection, granted strictly in arrival
// order. An interactive transaction holds it from BEGIN to COMMIT/ROLLBACK, so a query issued
// outside the transaction waits instead of running inside it (the official adapter's defect).

/** Gives the lock back. Idempotent: a second call is a no-op, so it can never free a later owner. */
export type Release = () => void;

export class FifoMutex {
  #locked = false;
  readonly #waiters: Array<(release: Release) => void> = [];

  /** True while someone holds the lock. While false, nobody is waiting either (hand-off below). */
  get locked(): boolean {
    return this.#locked;
  }

  /** Number of callers waiting for the lock. */
  get waiting(): number {
    return this.#waiters.length;
  }

  /** Takes the lock now if it is free, else returns null. Never jumps the queue. */
  tryAcquire(): Release | null {
    if (this.#locked) return null;
    this.#locked = true;
    return this.#releaser();
  }

  /** Resolves with the lock held, after everyone who asked earlier has had and released it. */
  acquire(): Promise<Release> {
    const now = this.tryAcquire();
    if (now !== null) return Promise.resolve(now);
    return new Promise<Release>((resolve) => this.#waiters.push(resolve));
  }

  #releaser(): Release {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.#waiters.shift();
      // Hand the lock straight to the next waiter: it stays locked, so nobody can barge in
      // between this release and the waiter's continuation.
      if (next !== undefined) next(this.#releaser());
      else this.#locked = false;
    };
  }
}
