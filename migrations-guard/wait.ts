// Waiting on a replica for the primary's migrations to arrive by replication: push or poll.
// Every `tx` event of the node's database (pushed by LiteFS's /events stream) and every role
// change triggers a check at once; a bounded poll catches what no event announces (the stream is
// down, or the file changed under us). A hard timeout ends it with an error naming the missing
// migrations; an AbortSignal ends it early.
import type { LiteFSNode } from "../src/node/node.js";
import { MigrationTimeoutError } from "./errors.js";
import { judgeMigrationRole } from "./node-role.js";

export interface WaitOptions {
  /** Hard limit in ms: past it the wait fails with MigrationTimeoutError. */
  readonly timeoutMs: number;
  /** Re-check at least this often (ms), events or not. Default 500; from 20 to 5000. */
  readonly pollIntervalMs?: number;
  /** Aborts the wait: it rejects with `signal.reason`. */
  readonly signal?: AbortSignal;
}

export const DEFAULT_POLL_INTERVAL_MS = 500;
export const MIN_POLL_INTERVAL_MS = 20;
export const MAX_POLL_INTERVAL_MS = 5000;
/** 2^31-1: the longest setTimeout delay. */
const MAX_TIMEOUT_MS = 0x7fffffff;

export interface CheckedWaitOptions {
  readonly timeoutMs: number;
  readonly pollIntervalMs: number;
  readonly signal: AbortSignal | null;
}

export function checkWaitOptions(wait: WaitOptions): CheckedWaitOptions {
  if (wait === null || typeof wait !== "object")
    throw new TypeError("wait must be an object like { timeoutMs: 60000 }");
  const { timeoutMs, pollIntervalMs = DEFAULT_POLL_INTERVAL_MS, signal } = wait;
  if (typeof timeoutMs !== "number" || !Number.isFinite(timeoutMs) || timeoutMs <= 0 || timeoutMs > MAX_TIMEOUT_MS) {
    throw new TypeError(`wait.timeoutMs must be a number of ms from 1 to ${MAX_TIMEOUT_MS}, got ${String(timeoutMs)}`);
  }
  if (
    typeof pollIntervalMs !== "number" ||
    !Number.isFinite(pollIntervalMs) ||
    pollIntervalMs < MIN_POLL_INTERVAL_MS ||
    pollIntervalMs > MAX_POLL_INTERVAL_MS
  ) {
    throw new TypeError(
      `wait.pollIntervalMs must be from ${MIN_POLL_INTERVAL_MS} to ${MAX_POLL_INTERVAL_MS} ms, got ${String(pollIntervalMs)}`,
    );
  }
  if (signal !== undefined && !(signal instanceof AbortSignal))
    throw new TypeError("wait.signal must be an AbortSignal");
  return { timeoutMs, pollIntervalMs, signal: signal ?? null };
}

/** One look at the replicated database. */
export type ReplicaCheck =
  | { readonly done: true }
  | { readonly done: false; readonly missing: readonly string[]; readonly problem: string | null };

export type WaitOutcome =
  | { readonly kind: "replicated"; readonly waitedMs: number }
  /** The node became primary while waiting: the caller now migrates itself. */
  | { readonly kind: "promoted"; readonly waitedMs: number };

/**
 * Checks until `check()` says done, the node becomes primary, or the timeout. Throws
 * SplitBrainError as soon as the node is in split brain, MigrationTimeoutError at the timeout,
 * `signal.reason` when aborted; errors of `check()` end the wait too.
 */
export async function waitForReplication(
  node: LiteFSNode,
  wait: CheckedWaitOptions,
  check: () => ReplicaCheck,
): Promise<WaitOutcome> {
  const started = Date.now();
  const deadline = started + wait.timeoutMs;
  const database = node.settings.databaseName;
  let wake: (() => void) | null = null;
  const poke = (): void => wake?.();
  const onTx = (tx: { db: string }): void => {
    if (tx.db === database) poke();
  };
  node.on("tx", onTx);
  node.on("role-change", poke);
  node.on("split-brain", poke);
  wait.signal?.addEventListener("abort", poke);
  try {
    for (;;) {
      wait.signal?.throwIfAborted();
      const role = judgeMigrationRole(node);
      if (role.kind === "primary") return { kind: "promoted", waitedMs: Date.now() - started };
      const result = check();
      if (result.done) return { kind: "replicated", waitedMs: Date.now() - started };
      const remaining = deadline - Date.now();
      if (remaining <= 0) {
        const noPrimary = role.kind === "no-primary" ? `no primary is known (${role.refusal.message})` : null;
        throw new MigrationTimeoutError({
          missing: result.missing,
          timeoutMs: wait.timeoutMs,
          nodeId: node.settings.nodeId,
          lastProblem: [noPrimary, result.problem].filter((p) => p !== null).join("; ") || null,
        });
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(wait.pollIntervalMs, remaining));
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      wake = null;
    }
  } finally {
    node.off("tx", onTx);
    node.off("role-change", poke);
    node.off("split-brain", poke);
    wait.signal?.removeEventListener("abort", poke);
  }
}
