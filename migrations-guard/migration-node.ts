// The node and settings a migration run works with: given by the caller, or opened here (and
// then closed here).
import { loadSettings, type LiteFSSettings } from "../src/config/index.js";
import { createNode, type LiteFSNode } from "../src/node/node.js";
import { createDefaultLogger, type Logger } from "../src/logger.js";

export interface MigrationNodeOptions {
  /** Default: `node.settings` when a node is given, else `loadSettings()` (LITEFS_* env). */
  readonly settings?: LiteFSSettings;
  /** The node whose gate decides. Default: `createNode(settings)`, closed when the run ends. */
  readonly node?: LiteFSNode;
  readonly logger?: Logger;
  /** How long the node opened here waits for its first state (ms). Default 2000. */
  readonly readyTimeoutMs?: number;
  /**
   * Aborts the run: before anything is written or run it rejects with `signal.reason`, and it
   * ends a wait. (A migration already running is not interrupted: it commits or rolls back whole.)
   */
  readonly signal?: AbortSignal;
}

export interface MigrationContext {
  readonly settings: LiteFSSettings;
  readonly node: LiteFSNode;
  readonly log: Logger;
}

/** The wait's own signal and the run's, combined. */
export function combinedSignal(...signals: (AbortSignal | undefined)[]): AbortSignal | undefined {
  const present = signals.filter((s): s is AbortSignal => s !== undefined);
  return present.length <= 1 ? present[0] : AbortSignal.any(present);
}

export async function withMigrationNode<T>(
  options: MigrationNodeOptions,
  run: (context: MigrationContext) => Promise<T>,
): Promise<T> {
  const settings = options.settings ?? options.node?.settings ?? loadSettings();
  const logger = options.logger ?? createDefaultLogger();
  const node = options.node ?? (await createNode(settings, { logger, readyTimeoutMs: options.readyTimeoutMs ?? 2000 }));
  const log = logger.child({ component: "migrations-guard", nodeId: settings.nodeId });
  try {
    options.signal?.throwIfAborted();
    return await run({ settings, node, log });
  } finally {
    if (!options.node) await node.close();
  }
}
