// The lease service process, wired: durable Raft storage + authenticated TCP transport + the node
// runner, the lease state machine, the service core, the Consul HTTP front end on 127.0.0.1, the
// peer forwarding listener, and the lease state file for the app's write gate.
//
// Raft member ids are the members' Raft addresses (raft.selfAddr and raft.peers): every node
// derives the same ids and the same cluster id from the settings alone.

import { sha256Hex } from "../digest.js";
import { lookup } from "node:dns/promises";
import { rmSync } from "node:fs";
import type { LiteFSSettings } from "../config/index.js";
import { CONSUL_LEASE } from "../config/index.js";
import { ConfigError } from "../errors.js";
import { createDefaultLogger, type Logger } from "../logger.js";
import { startConsulHttpServer, type ConsulHttpServer } from "./consul-http.js";
import { httpForwarder, startForwardServer, type ForwardServer } from "./forward.js";
import { leaseStatePath, writeLeaseState } from "./published-state.js";
import { resolveLeaseToken } from "./token.js";
import { directoryKey } from "./node-directory.js";
import { LeaseService, type LeaseServiceEvent } from "./service.js";
import { LeaseStateMachine, type LeaseChange, type LeaseResult } from "./state-machine.js";
import type { LeaseClock, PublishedLeaseState, RaftPort } from "./types.js";
import { PeerRegistry } from "../raft/peer-registry.js";
import { RaftNode, type RaftNodeStatus } from "../raft/runner.js";
import { openRaftStorage } from "../raft/storage.js";
import { startTcpTransport } from "../raft/transport-tcp.js";
import { dialAddressOrThrow } from "../config/addresses.js";

export interface LeaseServiceOverrides {
  readonly logger?: Logger;
  /** Consul HTTP port on 127.0.0.1; default settings.raft.leasePort (0 = ephemeral, tests). */
  readonly httpPort?: number;
  /** Address the Raft and forwarding listeners bind; default: raft.selfAddr's host, resolved. */
  readonly listenHost?: string;
  /** The X-Consul-Token to require; default settings.raft.leaseToken, else this node's kept token (lease/token.ts). */
  readonly token?: string;
  /** Raft tick; default 50 ms (election timeout 0.5-1 s, well inside the 2 s quorum grace). */
  readonly tickMs?: number;
  /** Refuse session TTLs below this; default 5000 (tests use shorter TTLs). */
  readonly minTtlMs?: number;
  readonly quorumGraceMs?: number;
  /** Where the lease state file goes; default leaseStatePath(settings.mountPath). */
  readonly statePath?: string;
  readonly onEvent?: (event: LeaseServiceEvent) => void;
}

interface LeaseServiceStatus {
  readonly raft: RaftNodeStatus;
  readonly lease: PublishedLeaseState;
  readonly httpPort: number;
  readonly forwardAddr: string;
}

export interface RunningLeaseService {
  readonly httpPort: number;
  readonly raftPort: number;
  readonly forwardAddr: string;
  readonly statePath: string;
  /** Where this node's generated token is kept; null when the token is pinned by a setting. */
  readonly tokenPath: string | null;
  status(): LeaseServiceStatus;
  /** Resolves once a Raft leader confirmed this node through a ReadIndex round (the group is joined). */
  waitUntilJoined(timeoutMs: number, signal?: AbortSignal): Promise<void>;
  /** Resolves if the Raft node stops on a fatal error (storage failure). */
  readonly failed: Promise<Error>;
  close(): Promise<void>;
}

/** The Raft cluster id: a digest of the sorted member list, identical on every member. */
function raftClusterId(members: readonly string[]): string {
  const sorted = [...members].sort();
  return "litefs-lease-" + sha256Hex(sorted.join("\n")).slice(0, 16);
}

const monotonicMs = (): number => Number(process.hrtime.bigint()) / 1e6;

export const realClock: LeaseClock = {
  now: monotonicMs,
  setTimer: (fn, ms) => {
    const t = setTimeout(fn, ms);
    t.unref();
    return t;
  },
  clearTimer: (h) => clearTimeout(h as NodeJS.Timeout),
};

/**
 * The address every listener binds: raft.selfAddr's host, a name resolved to its address, never
 * a wildcard (a member must not listen on interfaces its peers do not use).
 */
async function resolveListenHost(host: string): Promise<string> {
  if (host === "" || host === "0.0.0.0" || host === "::") {
    throw new ConfigError([
      {
        setting: "raft.selfAddr",
        env: "LITEFS_RAFT_SELF_ADDR",
        message: `must name this node's own address (the peers dial it), not the wildcard ${JSON.stringify(host)}`,
      },
    ]);
  }
  try {
    return (await lookup(host)).address;
  } catch (e) {
    throw new ConfigError([
      {
        setting: "raft.selfAddr",
        env: "LITEFS_RAFT_SELF_ADDR",
        message: `host ${JSON.stringify(host)} does not resolve: ${(e as Error).message}`,
      },
    ]);
  }
}

export async function startLeaseService(
  settings: LiteFSSettings,
  overrides: LeaseServiceOverrides = {},
): Promise<RunningLeaseService> {
  const raft = settings.raft;
  if (!settings.enabled || settings.leaderElection !== "raft" || raft === null || settings.nodeId === null) {
    throw new ConfigError([
      {
        setting: "leaderElection",
        env: "LITEFS_LEADER_ELECTION",
        message: `the lease service runs only with enabled: true and leaderElection "raft" (got ${settings.enabled ? settings.leaderElection : "dev mode"})`,
      },
    ]);
  }
  if (raft.secret === null)
    throw new ConfigError([
      { setting: "raft.secret", env: "LITEFS_RAFT_SECRET", message: "is required for the lease service" },
    ]);
  const log = (overrides.logger ?? createDefaultLogger()).child({
    component: "lease-service",
    nodeId: settings.nodeId,
  });
  const self = dialAddressOrThrow(raft.selfAddr, "raft.selfAddr");
  const listenHost = overrides.listenHost ?? (await resolveListenHost(self.host));
  const voters = [raft.selfAddr, ...raft.peers];
  const clusterId = raftClusterId(voters);
  const statePath = overrides.statePath ?? leaseStatePath(settings.mountPath);
  const clock = realClock;
  // Always a token: without one any local process could delete or rewrite the lease key.
  const token =
    overrides.token === undefined
      ? resolveLeaseToken(raft)
      : { token: overrides.token, source: "setting" as const, path: null };

  let service: LeaseService | null = null;
  const sm = new LeaseStateMachine({ now: clock.now, onChange: (c: LeaseChange) => service?.onStateChange(c) });
  const storage = openRaftStorage({
    dir: raft.dataDir,
    nodeId: raft.selfAddr,
    clusterId,
    bootstrap: raft.bootstrap,
    onWarning: (m) => log.warn(m),
  });
  let resolveFailed: (e: Error) => void = () => {};
  const failed = new Promise<Error>((resolve) => (resolveFailed = resolve));
  let failure: Error | null = null;
  const failWith = (e: Error): void => {
    failure ??= e;
    resolveFailed(e);
  };
  // Transport complaints repeat on every redial: log each distinct one once.
  const logged = new Set<string>();
  const once = (key: string, write: () => void): void => {
    if (logged.has(key)) return;
    if (logged.size > 1000) logged.clear();
    logged.add(key);
    write();
  };
  let transport;
  try {
    const peerRegistry = new PeerRegistry(raft.dataDir);
    transport = await startTcpTransport({
      id: raft.selfAddr,
      clusterId,
      secret: raft.secret,
      listen: { host: listenHost, port: self.port },
      peers: Object.fromEntries(raft.peers.map((p) => [p, p])),
      incarnation: storage.identity.incarnation,
      admitPeer: (peer, incarnation) => peerRegistry.admit(peer, incarnation),
      onEvent: (e) => {
        if (e.type === "connected") {
          logged.clear();
          log.debug(e, "raft transport connected");
        } else if (e.type === "disconnected") {
          log.debug(e, "raft transport disconnected");
        } else if (e.type === "refused") {
          once(`${e.peer} ${e.reason}`, () => log.error(e, `raft peer ${e.peer}: ${e.reason}`));
          if (e.fatal) failWith(new Error(`peer ${e.peer} refused this member: ${e.reason}`));
        } else if (e.type === "rejected") {
          once(e.reason.replace(/\d+\.\d+\.\d+\.\d+:\d+|\(\d+( open)?\)/g, ""), () =>
            log.warn(e, `raft transport rejected a connection: ${e.reason}`),
          );
        }
      },
    });
  } catch (e) {
    storage.close();
    throw e;
  }
  const node = new RaftNode<LeaseResult>({
    id: raft.selfAddr,
    voters,
    clusterId,
    storage,
    transport,
    stateMachine: sm,
    tickMs: overrides.tickMs ?? 50,
    electionTick: 10,
    heartbeatTick: 1,
    proposalTimeoutMs: 3000,
    readTimeoutMs: 3000,
    snapshotEvery: 500,
    now: clock.now,
    onEvent: (e) => {
      if (e.type === "role") {
        log.info(
          { role: e.role, leader: e.leader, term: e.term },
          `raft: ${e.role}, leader ${e.leader ?? "unknown"}, term ${e.term}`,
        );
        service?.onRoleChange(e.role, e.term);
      } else if (e.type === "fatal") {
        log.error({ err: e.error }, "raft node stopped on a fatal error");
        failWith(e.error);
      }
    },
  });
  const raftPort: RaftPort = {
    propose: (d) => node.propose(d),
    read: () => node.read(),
    status: () => node.status(),
    heardFrom: (member) => node.heardFrom(member),
  };

  let forwardServer: ForwardServer | null = null;
  let http: ConsulHttpServer;
  const forwarder = httpForwarder({ secret: raft.secret, clusterId, addressOf: (leader) => sm.forwardAddr(leader) });
  let publishErrorLogged = false;
  try {
    forwardServer = await startForwardServer({
      secret: raft.secret,
      clusterId,
      listenHost,
      port: raft.forwardPort ?? 0,
      advertiseHost: self.host,
      memberHosts: voters.map((v) => dialAddressOrThrow(v, "raft.peers").host),
      onRejected: (remote, reason) =>
        once(`forward ${reason.replace(/\d+\.\d+\.\d+\.\d+|\(\d+( open)?\)/g, "")}`, () =>
          log.warn({ remote, reason }, `lease forwarding listener rejected a connection: ${reason}`),
        ),
      execute: (request) => (service as LeaseService).execute(request),
    });
    service = new LeaseService({
      raft: raftPort,
      stateMachine: sm,
      clock,
      nodeName: settings.nodeId,
      leaseKey: CONSUL_LEASE.key,
      directoryKeys: voters.map(directoryKey),
      forward: forwarder,
      forwardAddr: forwardServer.advertiseAddr,
      ...(overrides.minTtlMs === undefined ? {} : { minTtlMs: overrides.minTtlMs }),
      ...(overrides.quorumGraceMs === undefined ? {} : { quorumGraceMs: overrides.quorumGraceMs }),
      publish: (state) => {
        try {
          writeLeaseState(statePath, state);
          publishErrorLogged = false;
        } catch (e) {
          if (!publishErrorLogged)
            log.error({ err: e, statePath }, "cannot write the lease state file; the write gate will refuse writes");
          publishErrorLogged = true;
        }
      },
      onEvent: (e) => {
        if (e.type === "refused-renew")
          log.error(e, `split brain: renew of session ${e.session} answered 404 so LiteFS demotes: ${e.reason}`);
        else if (e.type === "expired") log.warn(e, `session ${e.session} expired`);
        else if (e.type === "member-silent")
          log.warn(e, `session ${e.session} ended: member ${e.member} silent for ${e.silentMs} ms`);
        else log.warn({ err: e.error }, "could not announce the forwarding address");
        overrides.onEvent?.(e);
      },
    });
    const st = node.status();
    service.onRoleChange(st.role, st.term);
    service.start();
    http = await startConsulHttpServer({
      port: overrides.httpPort ?? raft.leasePort,
      host: "127.0.0.1",
      handle: (request, startedAt, budget) => (service as LeaseService).handle(request, startedAt, budget),
      now: clock.now,
      nodeName: settings.nodeId,
      token: token.token,
      policy: service.policy,
      knownLeader: () => node.status().leader !== null,
      onError: (e) => log.error({ err: e }, "lease HTTP handler failed"),
    });
  } catch (e) {
    service?.close();
    forwarder.close();
    await forwardServer?.close();
    await node.close();
    throw e;
  }
  const svc = service;
  const httpServer = http;
  const fwd = forwardServer;
  log.info(
    {
      httpPort: httpServer.port,
      raft: raft.selfAddr,
      peers: raft.peers,
      forward: fwd.advertiseAddr,
      statePath,
      token: token.source,
      tokenPath: token.path,
    },
    "lease service started",
  );

  let closed = false;
  return {
    httpPort: httpServer.port,
    raftPort: transport.address.port,
    forwardAddr: fwd.advertiseAddr,
    statePath,
    tokenPath: token.path,
    failed,
    status: () => ({
      raft: node.status(),
      lease: svc.publishedState(),
      httpPort: httpServer.port,
      forwardAddr: fwd.advertiseAddr,
    }),
    async waitUntilJoined(timeoutMs, signal) {
      const until = Date.now() + timeoutMs;
      for (;;) {
        if (signal?.aborted) throw new Error("aborted while waiting to join the Raft group");
        if (node.failure) throw node.failure;
        if (failure) throw failure;
        try {
          await node.read();
          const st = node.status();
          // A follower also needs the leader's forwarding address before it can serve LiteFS.
          if (st.role === "leader" || (st.leader !== null && sm.forwardAddr(st.leader) !== null)) return;
        } catch {
          // no leader yet
        }
        if (Date.now() >= until)
          throw new Error(`did not join the Raft group within ${timeoutMs} ms (members: ${voters.join(", ")})`);
        await new Promise((r) => setTimeout(r, 100));
      }
    },
    async close() {
      if (closed) return;
      closed = true;
      svc.close();
      await httpServer.close();
      forwarder.close();
      await fwd.close();
      await node.close();
      rmSync(statePath, { force: true });
    },
  };
}
