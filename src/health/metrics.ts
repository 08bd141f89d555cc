// Prometheus metrics of litefs-node with prom-client, in their own Registry so an app's registry
// (or prom-client's global one) never collides with ours; merge them with Registry.merge if wanted.
// Gauges read the node at scrape time (collect), so they are never stale; counters are pushed.
import { Counter, Gauge, Registry } from "prom-client";
import type { NotPrimaryReason } from "../errors.js";
import type { NodeEventsView, NodeStateView, RaftMetricsSource } from "./node-view.js";

/** Why the driver refused a write: NotPrimaryError's reason, or split brain. */
export type RefusalReason = NotPrimaryReason | "split-brain";

/** What happened to a request the forwarding proxy had to decide about. */
export type ForwardOutcome =
  | "forwarded" //            write sent to the primary, its answer streamed back
  | "replayed" //             LiteFS's proxy answered Fly-Replay, request replayed to that instance
  | "body-too-large" //       413
  | "no-primary" //           503, no primary known (or split brain)
  | "no-address" //           502, primary known but no forwarding address for it
  | "primary-unreachable" //  502, the primary's app could not be reached or broke off
  | "loop" //                 508, a forwarded request reached a node that would forward again
  | "ryw-timeout" //          504, read with a TXID this replica did not reach in time
  | "ryw-forwarded" //        read with an unreached TXID sent to the primary instead
  | "over-capacity" //        503, a global budget (requests, buffered body bytes, TXID waits) was spent
  | "bad-host"; //            502, the primary or Fly-Replay instance is not a node name (or not in the host map)

export type TxidWaitOutcome = "caught-up" | "timeout";

/** How the /events stream was lost: LiteFS ended it (a full 1024-event buffer), or it broke. */
type EventsDisconnectCause = "ended" | "error";

export interface LiteFSNodeMetrics {
  readonly registry: Registry;
  recordRefusal(reason: RefusalReason): void;
  recordForward(outcome: ForwardOutcome): void;
  recordTxidWait(outcome: TxidWaitOutcome): void;
  recordSplitBrainEpisode(): void;
  recordEventsDisconnect(cause: EventsDisconnectCause): void;
  /** Feeds role/lag/TXID/split-brain gauges from the node; counts split-brain episodes and /events disconnects from its events. Returns a detach function. */
  observeNode(node: NodeStateView | NodeEventsView, options?: { db?: string }): () => void;
  /** Feeds the raft gauges (term, leader changes, lease holder). Returns a detach function. */
  observeRaft(source: RaftMetricsSource): () => void;
  /** The exposition text (what GET /metrics answers). */
  render(): Promise<string>;
  readonly contentType: string;
}

export const DEFAULT_METRICS_PREFIX = "litefs_node_";

function hasEvents(node: NodeStateView | NodeEventsView): node is NodeEventsView {
  return (
    typeof (node as Partial<NodeEventsView>).on === "function" &&
    typeof (node as Partial<NodeEventsView>).off === "function"
  );
}

/** What the gauges read at scrape time: the observed node and Raft source, set by observeNode/observeRaft. */
interface Observed {
  node: NodeStateView | null;
  nodeDb: string | undefined;
  raft: RaftMetricsSource | null;
}

/** The gauges read from the node at scrape time. */
function registerNodeGauges(
  p: string,
  registers: Registry[],
  state: Observed,
  noteSplitBrain: (now: boolean) => void,
): void {
  new Gauge({
    name: `${p}role`,
    help: "This node's LiteFS role (1 for the current one)",
    labelNames: ["role"],
    registers,
    collect() {
      this.reset();
      if (!state.node) return;
      this.set({ role: "primary" }, state.node.role === "primary" ? 1 : 0);
      this.set({ role: "replica" }, state.node.role === "replica" ? 1 : 0);
      this.set({ role: "unknown" }, state.node.role === "unknown" ? 1 : 0);
    },
  });
  new Gauge({
    name: `${p}primary_known`,
    help: "1 when this node knows a primary (itself included)",
    registers,
    collect() {
      this.reset();
      if (state.node) this.set(state.node.primary !== null ? 1 : 0);
    },
  });
  new Gauge({
    // An unlabelled gauge always has a sample, so "unknown" (dev mode, unreadable .lag) is NaN, not a fake 0.
    name: `${p}lag_seconds`,
    help: "Replication lag from LiteFS's .lag (NaN when unknown)",
    registers,
    collect() {
      const lagMs = state.node ? state.node.lagMs : null;
      this.set(lagMs !== null ? lagMs / 1000 : Number.NaN);
    },
  });
  new Gauge({
    // A double holds TXIDs exactly up to 2^53, far beyond any real database's transaction count.
    name: `${p}txid`,
    help: "Latest TXID this node has of the database",
    labelNames: ["db"],
    registers,
    collect() {
      this.reset();
      if (!state.node) return;
      const txid = state.node.txid(state.nodeDb);
      if (txid !== null) this.set({ db: state.nodeDb ?? state.node.settings?.databaseName ?? "default" }, Number(txid));
    },
  });
  new Gauge({
    name: `${p}split_brain`,
    help: "1 while LiteFS and the election disagree about the primary",
    registers,
    collect() {
      this.reset();
      if (!state.node) return;
      noteSplitBrain(state.node.splitBrain); // catches episodes no event reported
      this.set(state.node.splitBrain ? 1 : 0);
    },
  });
}

/** The raft-mode gauges, read from the Raft source at scrape time. */
function registerRaftGauges(p: string, registers: Registry[], state: Observed): void {
  new Gauge({
    name: `${p}raft_term`,
    help: "Raft term (raft mode)",
    registers,
    collect() {
      const s = state.raft?.raftSnapshot();
      this.set(s ? s.term : Number.NaN);
    },
  });
  new Gauge({
    name: `${p}raft_leader_changes`,
    help: "Raft leader changes seen by this process (raft mode)",
    registers,
    collect() {
      const s = state.raft?.raftSnapshot();
      this.set(s ? s.leaderChanges : Number.NaN);
    },
  });
  new Gauge({
    name: `${p}raft_lease_holder`,
    help: "The node holding the LiteFS lease (1 for the holder; raft mode)",
    labelNames: ["holder"],
    registers,
    collect() {
      this.reset();
      const s = state.raft?.raftSnapshot();
      if (s && s.leaseHolder !== null) this.set({ holder: s.leaseHolder }, 1);
    },
  });
}

// About 85 lines: five counter declarations and the methods that share their closure state; the
// gauges live in registerNodeGauges/registerRaftGauges.
export function createMetrics(options: { registry?: Registry; prefix?: string } = {}): LiteFSNodeMetrics {
  const registry = options.registry ?? new Registry();
  const p = options.prefix ?? DEFAULT_METRICS_PREFIX;
  const registers = [registry];
  const state: Observed = { node: null, nodeDb: undefined, raft: null };
  let inSplitBrain = false;

  const refusals = new Counter({
    name: `${p}write_refusals_total`,
    help: "Writes the guard refused, by reason",
    labelNames: ["reason"],
    registers,
  });
  const forwards = new Counter({
    name: `${p}forwarded_requests_total`,
    help: "Requests the forwarding proxy acted on, by outcome",
    labelNames: ["outcome"],
    registers,
  });
  const txidWaits = new Counter({
    name: `${p}txid_waits_total`,
    help: "Reads that waited for this replica to reach a TXID, by outcome",
    labelNames: ["outcome"],
    registers,
  });
  const splitBrainEpisodes = new Counter({
    name: `${p}split_brain_episodes_total`,
    help: "Times this node entered split brain",
    registers,
  });
  const eventsDisconnects = new Counter({
    name: `${p}events_disconnects_total`,
    help: "Times the LiteFS /events stream was lost, by cause (ended: LiteFS closed it, e.g. a subscriber whose 1024-event buffer filled; error: the connection broke); the node reconnects and reads the mount files meanwhile",
    labelNames: ["cause"],
    registers,
  });

  const noteSplitBrain = (now: boolean): void => {
    if (now && !inSplitBrain) splitBrainEpisodes.inc();
    inSplitBrain = now;
  };

  registerNodeGauges(p, registers, state, noteSplitBrain);
  // Registered on the first observeRaft only: static-mode nodes expose no raft series at all.
  let raftRegistered = false;

  return {
    registry,
    contentType: registry.contentType,
    recordRefusal: (reason) => refusals.inc({ reason }),
    recordForward: (outcome) => forwards.inc({ outcome }),
    recordTxidWait: (outcome) => txidWaits.inc({ outcome }),
    recordSplitBrainEpisode: () => splitBrainEpisodes.inc(),
    recordEventsDisconnect: (cause) => eventsDisconnects.inc({ cause }),
    observeNode(observed, opts = {}) {
      state.node = observed;
      state.nodeDb = opts.db;
      inSplitBrain = observed.splitBrain;
      if (inSplitBrain) splitBrainEpisodes.inc();
      if (!hasEvents(observed))
        return () => {
          if (state.node === observed) state.node = null;
        };
      const onRoleChange = (s: { readonly splitBrain: boolean }): void => noteSplitBrain(s.splitBrain);
      const onSplitBrain = (): void => noteSplitBrain(true);
      const onEventsDisconnect = (notice: { readonly cause: EventsDisconnectCause }): void =>
        eventsDisconnects.inc({ cause: notice.cause });
      observed.on("role-change", onRoleChange);
      observed.on("split-brain", onSplitBrain);
      observed.on("events-disconnect", onEventsDisconnect);
      return () => {
        observed.off("role-change", onRoleChange);
        observed.off("split-brain", onSplitBrain);
        observed.off("events-disconnect", onEventsDisconnect);
        if (state.node === observed) state.node = null;
      };
    },
    observeRaft(source) {
      if (!raftRegistered) registerRaftGauges(p, registers, state);
      raftRegistered = true;
      state.raft = source;
      return () => {
        if (state.raft === source) state.raft = null;
      };
    },
    render: () => registry.metrics(),
  };
}

let shared: LiteFSNodeMetrics | null = null;

/** The process-wide metrics the CLI proxy serves; the driver's refusals land here via recordRefusal. */
export function defaultMetrics(): LiteFSNodeMetrics {
  shared ??= createMetrics();
  return shared;
}

/** Hook for the driver: count one refused write in the process-wide metrics. */
export function recordRefusal(reason: RefusalReason): void {
  defaultMetrics().recordRefusal(reason);
}

/** Hook for the driver: count a refusal from the error it threw (NotPrimaryError or SplitBrainError). */
export function recordRefusalError(error: unknown): void {
  const e = error as { code?: unknown; reason?: unknown } | null;
  if (e?.code === "LITEFS_SPLIT_BRAIN") recordRefusal("split-brain");
  else if (e?.code === "LITEFS_NOT_PRIMARY" && typeof e.reason === "string")
    recordRefusal(e.reason as NotPrimaryReason);
}
