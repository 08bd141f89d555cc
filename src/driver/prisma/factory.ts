// `new PrismaClient({ adapter: new PrismaLiteFS(options) })`: the adapter factory Prisma 7 calls.
import type { SqlDriverAdapter, SqlMigrationAwareDriverAdapterFactory } from "@prisma/driver-adapter-utils";
import { loadSettings, type LiteFSSettings } from "../../config/index.js";
import { alwaysWritableGate } from "../../node/gate.js";
import { openNode, type LiteFSNode } from "../../node/node.js";
import { GuardedDatabase } from "../guarded-database.js";
import { openGuardedDatabaseWhenPresent } from "../open.js";
import { ADAPTER_NAME, LiteFSPrismaAdapter } from "./adapter.js";
import { Connection, type AdapterDatabase } from "./connection.js";
import type { TimestampFormat } from "./conversion.js";
import { DEFAULT_STATEMENT_CACHE_SIZE } from "./statement-cache.js";

export interface PrismaLiteFSOptions {
  /** Settings from loadSettings(). Default: the node's settings, else loadSettings() (LITEFS_* env). */
  settings?: LiteFSSettings;
  /**
   * The node whose gate decides who may write. Default: one opened from the settings when Prisma
   * connects, and closed when it disconnects. Pass your own to share it (it is then not closed).
   */
  node?: LiteFSNode;
  /** SQLite busy timeout (ms): how long a write waits for another connection's lock. Default 5000. */
  busyTimeoutMs?: number;
  /** How DateTime values are written. Default "iso8601", Prisma's own SQLite format. */
  timestampFormat?: TimestampFormat;
  /** Prepared statements kept per connection (least recently used evicted). Default 256; 0 disables. */
  statementCacheSize?: number;
}

const TIMESTAMP_FORMATS: readonly TimestampFormat[] = ["iso8601", "unixepoch-ms"];

export class PrismaLiteFS implements SqlMigrationAwareDriverAdapterFactory {
  readonly provider = "sqlite" as const;
  readonly adapterName = ADAPTER_NAME;
  readonly #options: Readonly<PrismaLiteFSOptions>;
  readonly #timestampFormat: TimestampFormat;
  readonly #statementCacheSize: number;

  constructor(options: PrismaLiteFSOptions = {}) {
    if (options === null || typeof options !== "object") {
      throw new TypeError("PrismaLiteFS: options must be an object");
    }
    const timestampFormat = options.timestampFormat ?? "iso8601";
    if (!TIMESTAMP_FORMATS.includes(timestampFormat)) {
      throw new TypeError(
        `PrismaLiteFS: timestampFormat must be "iso8601" or "unixepoch-ms", got ${JSON.stringify(timestampFormat)}`,
      );
    }
    const statementCacheSize = options.statementCacheSize ?? DEFAULT_STATEMENT_CACHE_SIZE;
    if (!Number.isInteger(statementCacheSize) || statementCacheSize < 0) {
      throw new TypeError(
        `PrismaLiteFS: statementCacheSize must be a non-negative integer, got ${String(statementCacheSize)}`,
      );
    }
    this.#options = { ...options };
    this.#timestampFormat = timestampFormat;
    this.#statementCacheSize = statementCacheSize;
  }

  async connect(): Promise<SqlDriverAdapter> {
    const settings = this.#options.settings ?? this.#options.node?.settings ?? loadSettings();
    const ownNode = this.#options.node === undefined;
    // Not waiting for `node.ready`: the gate answers from the mount files at once, so reads
    // run and a write with the role unknown is refused now, not after the ready timeout.
    const node = this.#options.node ?? openNode(settings);
    try {
      const busy = this.#options.busyTimeoutMs;
      // A replica of a new cluster waits (settings.databaseWaitTimeout) for the file to replicate.
      const db = await openGuardedDatabaseWhenPresent(
        settings,
        node,
        busy === undefined ? {} : { busyTimeoutMs: busy },
      );
      return this.#adapter(db, ownNode ? () => node.close() : undefined);
    } catch (error) {
      if (ownNode) await node.close();
      throw error;
    }
  }

  /**
   * The scratch database `prisma migrate dev` diffs against: in memory, local to this process,
   * never replicated, so it is always writable.
   */
  async connectToShadowDb(): Promise<SqlDriverAdapter> {
    const db = new GuardedDatabase(":memory:", { gate: alwaysWritableGate });
    return this.#adapter(db);
  }

  #adapter(db: AdapterDatabase, onDispose?: () => Promise<void>): LiteFSPrismaAdapter {
    const connection = new Connection(db, {
      timestampFormat: this.#timestampFormat,
      statementCacheSize: this.#statementCacheSize,
    });
    return new LiteFSPrismaAdapter(connection, onDispose);
  }
}
