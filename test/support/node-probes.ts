// Small probes node and stream tests share: wait for a condition (bounded), and ask a node's gate
// what a write would get without throwing.
import type { LiteFSNode } from "../../src/node/node.js";

/** Resolves once `condition()` holds; rejects naming `what` after `timeoutMs` (default 3000). */
export function waitFor(condition: () => boolean, what: string, timeoutMs = 3000): Promise<void> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const tick = (): void => {
      if (condition()) return resolve();
      if (Date.now() - started > timeoutMs) return reject(new Error(`timed out waiting for ${what}`));
      setTimeout(tick, 5);
    };
    tick();
  });
}

/** The error a write would get now (NotPrimaryError, SplitBrainError), or null when writable. */
export function refusal(node: Pick<LiteFSNode, "gate">): unknown {
  try {
    node.gate.assertWritable();
    return null;
  } catch (e) {
    return e;
  }
}
