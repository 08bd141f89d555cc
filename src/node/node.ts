// A LiteFS node as the application sees it: role, primary, lag, TXIDs, and the WriteGate.
// openNode wires the pieces: the /events subscription feeds NodeState (no I/O on the write path
// while connected); while it is down the gate reads the mount files, and a slow unref'd poll
// keeps role-change and split-brain announcements flowing even when nobody writes.
import { EventEmitter } from "node:events";
import { litefsApiUrl, type LiteFSSettings } from "../config/index.js";
import type { SplitBrainError } from "../errors.js";
import type { StreamFetch } from "../litefs/background-fetch.js";
import type { BackoffOptions } from "../backoff.js";
import { subscribeEvents, type EventsSubscription } from "../litefs/events-client.js";
import type { LiteFSEvent } from "../litefs/events.js";
import { createDefaultLogger, type Logger } from "../logger.js";
import { readLagFile, readPositionFile } from "../litefs/mount-files.js";
import { createMountViewReader, type MountFileOps } from "../litefs/mount-view.js";
import { viewFromPrimaryStatus } from "../litefs/view.js";
import { electionForSettings, type ElectionView } from "../election/election-view.js";
import { alwaysWritableGate, type WriteGate } from "./gate.js";
import { NodeState, type NodeStateHooks, type NodeStateSnapshot, type Role } from "./node-state.js";

export type { NodeStateSnapshot, Role } from "./node-state.js";

/** A `tx` event as the node emits it (from LiteFS's /events stream): the database and its new TXID. */
export interface TxNotice {
  readonly db: string;
  readonly txid: bigint;
}

/** The /events stream was lost; the node reconnects (at once after a stable stream) and reads the files meanwhile. */
interface EventsDisconnectNotice {
  /** "ended": LiteFS closed the stream (as it does to a subscriber whose 1024-event buffer filled); "error": the connection broke. */
  readonly cause: "ended" | "error";
  readonly error: Error | null;
}

export interface LiteFSNode {
  readonly settings: LiteFSSettings;
  /** assertWritable(): synchronous; no I/O while /events is connected. */
  readonly gate: WriteGate;
  /** Current view (dev mode: "primary"). Reads the mount files when /events is not connected. */
  readonly role: Role;
  /** The primary's hostname (this node's id when it is primary), null when none is known. */
  readonly primary: string | null;
  readonly splitBrain: boolean;
  /** Where the current answers come from. */
  readonly source: NodeStateSnapshot["source"];
  /** Replication lag from `.lag` in ms; Infinity when never synced; null in dev mode or when unreadable. */
  readonly lagMs: number | null;
  /** Latest known TXID of `db` (default settings.databaseName): from tx events, else `<db>-pos`. */
  txid(db?: string): bigint | null;
  /** The current state in one object. */
  snapshot(): NodeStateSnapshot;
  /** Resolves once the first state is known (events `init`, or the files when the API is unreachable), or at the ready timeout. */
  readonly ready: Promise<void>;
  on(event: "role-change", fn: (snapshot: NodeStateSnapshot) => void): this;
  on(event: "split-brain", fn: (error: SplitBrainError) => void): this;
  on(event: "tx", fn: (tx: TxNotice) => void): this;
  on(event: "events-disconnect", fn: (notice: EventsDisconnectNotice) => void): this;
  off(event: "role-change", fn: (snapshot: NodeStateSnapshot) => void): this;
  off(event: "split-brain", fn: (error: SplitBrainError) => void): this;
  off(event: "tx", fn: (tx: TxNotice) => void): this;
  off(event: "events-disconnect", fn: (notice: EventsDisconnectNotice) => void): this;
  /** Stops the events stream and every timer; the gate keeps answering from the files. */
  close(): Promise<void>;
}

export interface OpenNodeOptions {
  readonly logger?: Logger;
  /** The /events client's fetch. Default: an unref'd node:http GET (the stream never keeps the process alive). */
  readonly fetch?: StreamFetch;
  /** `ready` resolves at the latest after this long (ms). Default 5000. */
  readonly readyTimeoutMs?: number;
  /** While /events is down, re-read the mount files this often to announce changes (ms). Default 1000; 0 = never. */
  readonly pollIntervalMs?: number;
  /** Reconnect backoff of the /events stream. */
  readonly backoff?: BackoffOptions;
  /** LiteFS API base URL. Default litefsApiUrl(settings). */
  readonly apiUrl?: string;
  /** Replaces the election derived from the settings (the Raft lease service plugs in here). */
  readonly election?: ElectionView;
  /**
   * While /events is down, how long a "writable" verdict read from the mount files is reused (ms).
   * Default 50; 0 reads the files on every check. A write may pass the gate at most this long
   * after LiteFS stopped being primary, and LiteFS itself refuses it (the argument is in
   * src/node/node-state.ts).
   */
  readonly fileGateCacheMs?: number;
  /** The file operations the fallback gate reads the mount with. Default node:fs; benchmarks model FUSE latency here. */
  readonly mountFileOps?: MountFileOps;
}

export type CreateNodeOptions = OpenNodeOptions;

type Listener = (...args: never[]) => void;

/** on/off over a private emitter: the listener half of LiteFSNode, shared by both node kinds. */
abstract class NodeEvents {
  protected readonly emitter = new EventEmitter();
  on(event: string, fn: Listener): this {
    this.emitter.on(event, fn as (...args: unknown[]) => void);
    return this;
  }
  off(event: string, fn: Listener): this {
    this.emitter.off(event, fn as (...args: unknown[]) => void);
    return this;
  }
}

class DevNode extends NodeEvents implements LiteFSNode {
  readonly gate = alwaysWritableGate;
  readonly role: Role = "primary";
  readonly splitBrain = false;
  readonly source = "dev" as const;
  readonly lagMs = null;
  readonly ready = Promise.resolve();

  constructor(readonly settings: LiteFSSettings) {
    super();
  }

  get primary(): string | null {
    return this.settings.nodeId;
  }
  txid(): bigint | null {
    return null;
  }
  snapshot(): NodeStateSnapshot {
    return Object.freeze({ role: this.role, primary: this.primary, splitBrain: false, source: this.source });
  }
  async close(): Promise<void> {}
}

class LiteFSClusterNode extends NodeEvents implements LiteFSNode {
  private readonly readyPromise: Promise<void>;
  private readonly state: NodeState;
  private readonly txids = new Map<string, bigint>();
  private readonly subscription: EventsSubscription;
  private readonly log: Logger;
  private readonly pollIntervalMs: number;
  private pollTimer: NodeJS.Timeout | null = null;
  private readyTimer: NodeJS.Timeout | null = null;
  private resolveReady!: () => void;
  private isReady = false;
  private closed = false;
  // Connection errors repeat on every retry; log the first of a run at warn, the rest at debug.
  private errorsInARow = 0;
  // True while a stream is open; a stream error reported now is logged by onStreamDisconnect instead.
  private streamOpen = false;
  // A lost stream is one episode until events flow again: one warn line for it, not one per retry.
  private disconnectedSince: number | null = null;

  constructor(
    readonly settings: LiteFSSettings,
    options: OpenNodeOptions,
  ) {
    super();
    this.log = (options.logger ?? createDefaultLogger()).child({ component: "litefs-node", nodeId: settings.nodeId });
    this.pollIntervalMs = options.pollIntervalMs ?? 1000;
    const election = options.election ?? electionForSettings(settings);
    const readMountView = createMountViewReader(settings.mountPath, options.mountFileOps);
    this.state = new NodeState(settings.nodeId, election, readMountView, this.stateHooks(), options.fileGateCacheMs);
    this.readyPromise = new Promise<void>((resolve) => {
      this.resolveReady = resolve;
    });
    this.readyTimer = this.startReadyTimer(options.readyTimeoutMs ?? 5000);

    // Judge the files once now: the gate works at once, and split brain at startup is announced.
    this.state.snapshot();
    this.startPolling();

    const apiUrl = options.apiUrl ?? litefsApiUrl(settings);
    this.subscription = subscribeEvents({
      baseUrl: apiUrl,
      fetch: options.fetch,
      backoff: options.backoff,
      onEvent: (event) => this.onEvent(event),
      onConnect: () => this.onStreamConnect(apiUrl),
      onDisconnect: (error) => this.onStreamDisconnect(apiUrl, error),
      onError: (error) => this.onStreamError(apiUrl, error),
    });
  }

  /** What NodeState's judgements turn into: log lines and the node's events. */
  private stateHooks(): NodeStateHooks {
    return {
      roleChange: (snapshot, previous) => {
        if (previous)
          this.log.info(
            { ...snapshot, previous },
            `LiteFS role: ${snapshot.role}, primary ${snapshot.primary ?? "unknown"}`,
          );
        this.emit("role-change", snapshot);
      },
      splitBrain: (error) => {
        this.log.error({ err: error, primary: error.primary, reason: error.reason }, error.message);
        this.emit("split-brain", error);
      },
      splitBrainResolved: (snapshot) => {
        this.log.warn({ ...snapshot }, "split brain resolved: LiteFS and the election agree again");
      },
    };
  }

  /** `ready` resolves at the latest after `readyTimeoutMs`, answering from the mount files. */
  private startReadyTimer(readyTimeoutMs: number): NodeJS.Timeout {
    const timer = setTimeout(() => {
      const snapshot = this.state.snapshot();
      this.log.warn(
        { ...snapshot, readyTimeoutMs },
        "no LiteFS /events init within the ready timeout; answering from the mount files",
      );
      this.markReady();
    }, readyTimeoutMs);
    timer.unref();
    return timer;
  }

  private onStreamConnect(apiUrl: string): void {
    this.errorsInARow = 0;
    this.streamOpen = true;
    if (this.disconnectedSince !== null) {
      this.log.info(
        { apiUrl, offlineMs: Math.round(performance.now() - this.disconnectedSince) },
        "LiteFS /events reconnected",
      );
      this.disconnectedSince = null;
    } else this.log.debug({ apiUrl }, "connected to LiteFS /events");
  }

  /** The stream was lost: the gate falls back to the files and polling resumes until events flow again. */
  private onStreamDisconnect(apiUrl: string, error: Error | null): void {
    this.streamOpen = false;
    if (this.closed) return;
    const cause = error === null ? "ended" : "error";
    if (this.disconnectedSince === null) {
      this.disconnectedSince = performance.now();
      const why =
        cause === "ended"
          ? "LiteFS ended the stream (it drops a subscriber whose 1024-event buffer filled)"
          : `the stream broke: ${error?.message}`;
      this.log.warn(
        { err: error ?? undefined, apiUrl, cause },
        `LiteFS /events lost: ${why}; reconnecting, the write gate reads the mount files meanwhile`,
      );
    }
    // Counts as one connect failure already announced: the retries of this episode log at debug.
    this.errorsInARow = 1;
    this.state.setEventsView(null);
    this.startPolling();
    this.emit("events-disconnect", { cause, error } satisfies EventsDisconnectNotice);
  }

  /** A failed connect: logged once per run of failures; the files may already tell the first state. */
  private onStreamError(apiUrl: string, error: Error): void {
    this.errorsInARow++;
    const level = this.errorsInARow === 1 && !this.streamOpen ? "warn" : "debug";
    // An unreachable API is an expected condition (LiteFS starting, stopped): one line with
    // the reason, no stack trace. The stack is kept for debug.
    if (level === "warn")
      this.log.warn(
        { apiUrl, error: error.message },
        `LiteFS /events: ${error.message}; the write gate reads the mount files meanwhile`,
      );
    else this.log.debug({ err: error, apiUrl }, `LiteFS /events: ${error.message}`);
    // The API is unreachable but the files tell a state: that is the first state known.
    if (!this.isReady && !this.subscription?.connected && this.state.current().view.kind !== "unknown")
      this.markReady();
  }

  /**
   * Nothing of the node keeps the process alive by itself (a script that never calls close()
   * still exits), except while somebody waits for `ready`: asking for it holds the ready timer
   * (at most readyTimeoutMs), so `await node.ready` cannot be cut short by an empty event loop.
   */
  get ready(): Promise<void> {
    this.readyTimer?.ref();
    return this.readyPromise;
  }

  get gate(): WriteGate {
    return this.state.gate;
  }
  get role(): Role {
    return this.state.snapshot().role;
  }
  get primary(): string | null {
    return this.state.snapshot().primary;
  }
  get splitBrain(): boolean {
    return this.state.snapshot().splitBrain;
  }
  get source(): NodeStateSnapshot["source"] {
    return this.state.current().source;
  }
  snapshot(): NodeStateSnapshot {
    return this.state.snapshot();
  }

  get lagMs(): number | null {
    try {
      return readLagFile(this.settings.mountPath);
    } catch (error) {
      this.log.debug({ err: error }, "cannot read .lag");
      return null;
    }
  }

  txid(db: string = this.settings.databaseName): bigint | null {
    const fromEvents = this.txids.get(db);
    if (fromEvents !== undefined && this.state.fromEvents) return fromEvents;
    // Throws a LiteFSError naming the file when <db>-pos is malformed or unreadable.
    const position = readPositionFile(this.settings.mountPath, db);
    if (!position) return fromEvents ?? null;
    return fromEvents !== undefined && fromEvents > position.txid ? fromEvents : position.txid;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.stopPolling();
    if (this.readyTimer) clearTimeout(this.readyTimer);
    this.readyTimer = null;
    this.markReady();
    await this.subscription.close();
    this.state.setEventsView(null);
    this.state.dispose();
  }

  private onEvent(event: LiteFSEvent): void {
    if (event.type === "tx") {
      this.txids.set(event.db, event.txid);
      this.emit("tx", { db: event.db, txid: event.txid });
      return;
    }
    this.errorsInARow = 0;
    this.stopPolling();
    this.state.setEventsView(viewFromPrimaryStatus(event));
    if (event.type === "init") this.markReady();
  }

  private markReady(): void {
    if (this.isReady) return;
    this.isReady = true;
    if (this.readyTimer) clearTimeout(this.readyTimer);
    this.readyTimer = null;
    this.resolveReady();
  }

  private startPolling(): void {
    if (this.closed || this.pollTimer || this.pollIntervalMs <= 0) return;
    this.pollTimer = setInterval(() => {
      if (!this.state.fromEvents) this.state.snapshot();
    }, this.pollIntervalMs);
    this.pollTimer.unref();
  }

  private stopPolling(): void {
    if (this.pollTimer) clearInterval(this.pollTimer);
    this.pollTimer = null;
  }

  // Listeners are application code: one that throws must not break the stream or a write, and
  // they run from setImmediate, never inside gate.assertWritable(). That also lets a listener
  // attached right after openNode() or `await createNode()` hear what the first judgement
  // found (e.g. split brain at startup): the immediate runs after the pending promise jobs.
  private emit(event: string, payload: unknown): void {
    setImmediate(() => {
      for (const listener of this.emitter.listeners(event)) {
        try {
          (listener as (p: unknown) => void)(payload);
        } catch (error) {
          this.log.error({ err: error, event }, `a "${event}" listener threw`);
        }
      }
    });
  }
}

/**
 * Opens the node synchronously: the gate answers at once from the mount files, and switches to
 * the /events stream (no I/O per write) as soon as LiteFS sends `init`. Dev mode
 * (`enabled: false`): always writable, no LiteFS at all.
 */
export function openNode(settings: LiteFSSettings, options: OpenNodeOptions = {}): LiteFSNode {
  if (!settings.enabled) return new DevNode(settings);
  return new LiteFSClusterNode(settings, options);
}

/** openNode, then wait for `ready` (the first state known, or `readyTimeoutMs`, default 5000). */
export async function createNode(settings: LiteFSSettings, options: CreateNodeOptions = {}): Promise<LiteFSNode> {
  const node = openNode(settings, options);
  await node.ready;
  return node;
}
