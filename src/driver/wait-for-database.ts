// A replica of a new cluster has no database file until the primary's first write replicates
// (litefs-contract.md, "Observed on real clusters"). Opening there waits for the file, bounded,
// instead of failing at once so that every app must retry by hand. The wait ends early when
// this node becomes writable (then it creates the file itself), and never starts when waiting
// cannot help: the file exists, the mount is missing (LiteFS is not running), or split brain.
import { existsSync } from "node:fs";
import { dirname } from "node:path";
import { LiteFSError, NotPrimaryError } from "../errors.js";
import type { WriteGate } from "../node/gate.js";

/** How often the file is looked for while waiting (ms): a stat through FUSE costs about 50 µs. */
const POLL_MS = 50;

export interface DatabaseWait {
  /** The SQLite file inside the LiteFS mount. */
  readonly file: string;
  readonly gate: WriteGate;
  /** Give up after this long (ms); 0 = do not wait. */
  readonly timeoutMs: number;
  /** The setting and variable that set timeoutMs, named in the timeout error. */
  readonly setting: string;
}

/** The refusal that makes waiting worthwhile (a replica, no primary yet), or null. */
function replicaRefusal(gate: WriteGate): NotPrimaryError | null {
  try {
    gate.assertWritable();
    return null; // writable: this node creates the file
  } catch (error) {
    return error instanceof NotPrimaryError ? error : null; // split brain: not ours to wait out
  }
}

function needsWait(wait: DatabaseWait): boolean {
  return (
    wait.timeoutMs > 0 && !existsSync(wait.file) && existsSync(dirname(wait.file)) && replicaRefusal(wait.gate) !== null
  );
}

function timedOut(wait: DatabaseWait): LiteFSError {
  const refusal = replicaRefusal(wait.gate);
  const from = refusal?.primary ? `the primary "${refusal.primary}"` : "a primary (none is known now)";
  return new LiteFSError(
    "LITEFS_TIMEOUT",
    `${wait.file} did not arrive on this replica within ${wait.timeoutMs} ms (${wait.setting}): no write from ${from} has ` +
      "replicated here yet, and only the primary may create the database. Write on the primary first (its app opening the " +
      "database, or `litefs-node migrate` there, creates it), or raise the timeout",
  );
}

const sleeper = new Int32Array(new SharedArrayBuffer(4));

/**
 * Blocks (the thread sleeps; like SQLite's busy timeout, for synchronous openers such as Drizzle's
 * `drizzle()`) until the file exists or this node may write. Throws LiteFSError LITEFS_TIMEOUT.
 */
export function waitForDatabaseFileSync(wait: DatabaseWait): void {
  if (!needsWait(wait)) return;
  const deadline = performance.now() + wait.timeoutMs;
  while (needsWait(wait)) {
    const left = deadline - performance.now();
    if (left <= 0) throw timedOut(wait);
    Atomics.wait(sleeper, 0, 0, Math.min(POLL_MS, left));
  }
}

/** The same wait without blocking the event loop (Prisma's connect()). */
export async function waitForDatabaseFile(wait: DatabaseWait, signal?: AbortSignal): Promise<void> {
  if (!needsWait(wait)) return;
  const deadline = performance.now() + wait.timeoutMs;
  while (needsWait(wait)) {
    signal?.throwIfAborted();
    const left = deadline - performance.now();
    if (left <= 0) throw timedOut(wait);
    await new Promise((resolve) => setTimeout(resolve, Math.min(POLL_MS, left)));
  }
}
