// The lease service process, wired: durable Raft storage + authenticated TCP transport + the node
// runner, the lease state machine, the service core, the Consul HTTP front end on 127.0.0.1, the
// peer forwarding listener, and the lease state file for the app's write gate.
//
// Raft member ids are the members' Raft addresses (raft.selfAddr and raft.peers): every node
// derives the same ids and the same cluster id from the settings alone.

import { sha256Hex } from "../digest.js";
import { lookup } from "node:dns/promises";
import { rmSync } from "node:fs";
import type { LiteFSSettings, RaftSettings } from "../config/index.js";
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
import type { Forwarder, LeaseClock, PublishedLeaseState, RaftPort } from "./types.js";
import { PeerRegistry } from "../raft/peer-registry.js";
import { RaftNode, type RaftNodeStatus } from "../raft/runner.js";
import { openRaftStorage, type RaftStorage } from "../raft/storage.js";
import { startTcpTransport, type TcpTransport } from "../raft/transport-tcp.js";
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
  /**
   * Call once this host's LiteFS process has exited: ends the lease sessions it held (see
   * LeaseService.endLocalSessions) within `timeoutMs`; resolves with how many were ended.
   */
  endLocalSessions(timeoutMs: number): Promise<number>;
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

/** The settings the lease service needs, checked: raft mode with a node id and a secret. */
function leaseServiceSettings(settings: LiteFSSettings): { raft: RaftSettings; secret: string; nodeId: string } {
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
  return { raft, secret: raft.secret, nodeId: settings.nodeId };
}

/** What the parts of a starting lease service share. */
interface Startup {
  readonly raft: RaftSettings;
  readonly secret: string;
  readonly nodeId: string;
  readonly log: Logger;
  readonly listenHost: string;
  readonly selfHost: string;
  readonly selfPort: number;
  readonly voters: readonly string[];
  readonly clusterId: string;
  readonly statePath: string;
  readonly overrides: LeaseServiceOverrides;
  /** Logs a complaint once per distinct key (transport complaints repeat on every redial). */
  once(key: string, write: () => void): void;
  /** Forgets the complaints logged (a peer connected: a later failure is news again). */
  forgetLogged(): void;
  /** The first fatal error of the member (storage failure, refused by a peer). */
  failWith(e: Error): void;
  failure(): Error | null;
  readonly failed: Promise<Error>;
}

async function startup(settings: LiteFSSettings, overrides: LeaseServiceOverrides): Promise<Startup> {
  const { raft, secret, nodeId } = leaseServiceSettings(settings);
  const log = (overrides.logger ?? createDefaultLogger()).child({ component: "lease-service", nodeId });
  const self = dialAddressOrThrow(raft.selfAddr, "raft.selfAddr");
  const listenHost = overrides.listenHost ?? (await resolveListenHost(self.host));
  const voters = [raft.selfAddr, ...raft.peers];
  let resolveFailed: (e: Error) => void = () => {};
  const failed = new Promise<Error>((resolve) => (resolveFailed = resolve));
  let failure: Error | null = null;
  const logged = new Set<string>();
  return {
    raft,
    secret,
    nodeId,
    log,
    listenHost,
    selfHost: self.host,
    selfPort: self.port,
    voters,
    clusterId: raftClusterId(voters),
    statePath: overrides.statePath ?? leaseStatePath(settings.mountPath),
    overrides,
    once(key, write) {
      if (logged.has(key)) return;
      if (logged.size > 1000) logged.clear();
      logged.add(key);
      write();
    },
    forgetLogged: () => logged.clear(),
    failWith(e) {
      failure ??= e;
      resolveFailed(e);
    },
    failure: () => failure,
    failed,
  };
}

async function startRaftTransport(s: Startup, storage: RaftStorage): Promise<TcpTransport> {
  const peerRegistry = new PeerRegistry(s.raft.dataDir);
  return startTcpTransport({
    id: s.raft.selfAddr,
    clusterId: s.clusterId,
    secret: s.secret,
    listen: { host: s.listenHost, port: s.selfPort },
    peers: Object.fromEntries(s.raft.peers.map((p) => [p, p])),
    incarnation: storage.identity.incarnation,
    admitPeer: (peer, incarnation) => peerRegistry.admit(peer, incarnation),
    onEvent: (e) => {
      if (e.type === "connected") {
        s.forgetLogged();
        s.log.debug(e, "raft transport connected");
      } else if (e.type === "disconnected") {
        s.log.debug(e, "raft transport disconnected");
      } else if (e.type === "refused") {
        s.once(`${e.peer} ${e.reason}`, () => s.log.error(e, `raft peer ${e.peer}: ${e.reason}`));
        if (e.fatal) s.failWith(new Error(`peer ${e.peer} refused this member: ${e.reason}`));
      } else if (e.type === "rejected") {
        s.once(e.reason.replace(/\d+\.\d+\.\d+\.\d+:\d+|\(\d+( open)?\)/g, ""), () =>
          s.log.warn(e, `raft transport rejected a connection: ${e.reason}`),
        );
      }
    },
  });
}

/** Storage, transport and the Raft node; role changes go to `service()` once it exists. */
async function startRaftMember(
  s: Startup,
  sm: LeaseStateMachine,
  service: () => LeaseService | null,
): Promise<{ node: RaftNode<LeaseResult>; transport: TcpTransport }> {
  const storage = openRaftStorage({
    dir: s.raft.dataDir,
    nodeId: s.raft.selfAddr,
    clusterId: s.clusterId,
    bootstrap: s.raft.bootstrap,
    onWarning: (m) => s.log.warn(m),
  });
  let transport: TcpTransport;
  try {
    transport = await startRaftTransport(s, storage);
  } catch (e) {
    storage.close();
    throw e;
  }
  const node = new RaftNode<LeaseResult>({
    id: s.raft.selfAddr,
    voters: s.voters,
    clusterId: s.clusterId,
    storage,
    transport,
    stateMachine: sm,
    tickMs: s.overrides.tickMs ?? 50,
    electionTick: 10,
    heartbeatTick: 1,
    proposalTimeoutMs: 3000,
    readTimeoutMs: 3000,
    snapshotEvery: 500,
    now: realClock.now,
    onEvent: (e) => {
      if (e.type === "role") {
        s.log.info(
          { role: e.role, leader: e.leader, term: e.term },
          `raft: ${e.role}, leader ${e.leader ?? "unknown"}, term ${e.term}`,
        );
        service()?.onRoleChange(e.role, e.term);
      } else if (e.type === "fatal") {
        s.log.error({ err: e.error }, "raft node stopped on a fatal error");
        s.failWith(e.error);
      }
    },
  });
  return { node, transport };
}

/** Writes the lease state file for the app's gate; a failure is logged once until it works again. */
function statePublisher(s: Startup): (state: PublishedLeaseState) => void {
  let errorLogged = false;
  return (state) => {
    try {
      writeLeaseState(s.statePath, state);
      errorLogged = false;
    } catch (e) {
      if (!errorLogged)
        s.log.error(
          { err: e, statePath: s.statePath },
          "cannot write the lease state file; the write gate will refuse writes",
        );
      errorLogged = true;
    }
  };
}

function logServiceEvent(s: Startup): (e: LeaseServiceEvent) => void {
  return (e) => {
    if (e.type === "refused-renew")
      s.log.error(e, `split brain: renew of session ${e.session} answered 404 so LiteFS demotes: ${e.reason}`);
    else if (e.type === "expired") s.log.warn(e, `session ${e.session} expired`);
    else if (e.type === "member-silent")
      s.log.warn(e, `session ${e.session} ended: member ${e.member} silent for ${e.silentMs} ms`);
    else s.log.warn({ err: e.error }, "could not announce the forwarding address");
    s.overrides.onEvent?.(e);
  };
}

function newLeaseService(
  s: Startup,
  sm: LeaseStateMachine,
  node: RaftNode<LeaseResult>,
  forward: Forwarder,
  forwardAddr: string,
): LeaseService {
  const raftPort: RaftPort = {
    propose: (d, options) => node.propose(d, options),
    read: () => node.read(),
    status: () => node.status(),
    heardFrom: (member) => node.heardFrom(member),
    takeoverBound: () => node.takeoverBound(),
  };
  const { minTtlMs, quorumGraceMs } = s.overrides;
  return new LeaseService({
    raft: raftPort,
    stateMachine: sm,
    clock: realClock,
    nodeName: s.nodeId,
    leaseKey: CONSUL_LEASE.key,
    directoryKeys: s.voters.map(directoryKey),
    forward,
    forwardAddr,
    ...(minTtlMs === undefined ? {} : { minTtlMs }),
    ...(quorumGraceMs === undefined ? {} : { quorumGraceMs }),
    publish: statePublisher(s),
    onEvent: logServiceEvent(s),
  });
}

interface FrontEnds {
  readonly service: LeaseService;
  readonly http: ConsulHttpServer;
  readonly forwardServer: ForwardServer;
  readonly forwarder: ReturnType<typeof httpForwarder>;
}

/** The peer forwarding listener, the service core and the Consul HTTP front end on 127.0.0.1. */
async function startFrontEnds(
  s: Startup,
  sm: LeaseStateMachine,
  node: RaftNode<LeaseResult>,
  token: string,
  onService: (service: LeaseService) => void,
): Promise<FrontEnds> {
  let service: LeaseService | null = null;
  let forwardServer: ForwardServer | null = null;
  const forwarder = httpForwarder({ secret: s.secret, clusterId: s.clusterId, addressOf: (l) => sm.forwardAddr(l) });
  try {
    forwardServer = await startForwardServer({
      secret: s.secret,
      clusterId: s.clusterId,
      listenHost: s.listenHost,
      port: s.raft.forwardPort ?? 0,
      advertiseHost: s.selfHost,
      memberHosts: s.voters.map((v) => dialAddressOrThrow(v, "raft.peers").host),
      onRejected: (remote, reason) =>
        s.once(`forward ${reason.replace(/\d+\.\d+\.\d+\.\d+|\(\d+( open)?\)/g, "")}`, () =>
          s.log.warn({ remote, reason }, `lease forwarding listener rejected a connection: ${reason}`),
        ),
      execute: (request) => (service as LeaseService).execute(request),
    });
    service = newLeaseService(s, sm, node, forwarder, forwardServer.advertiseAddr);
    onService(service);
    const st = node.status();
    service.onRoleChange(st.role, st.term);
    service.start();
    const svc = service;
    const http = await startConsulHttpServer({
      port: s.overrides.httpPort ?? s.raft.leasePort,
      host: "127.0.0.1",
      handle: (request, startedAt, budget) => svc.handle(request, startedAt, budget),
      now: realClock.now,
      nodeName: s.nodeId,
      token,
      policy: svc.policy,
      knownLeader: () => node.status().leader !== null,
      onError: (e) => s.log.error({ err: e }, "lease HTTP handler failed"),
    });
    return { service: svc, http, forwardServer, forwarder };
  } catch (e) {
    service?.close();
    forwarder.close();
    await forwardServer?.close();
    throw e;
  }
}

/** Resolves once a Raft leader confirmed this member and, on a follower, the leader's forwarding address is known. */
async function waitUntilJoined(
  s: Startup,
  node: RaftNode<LeaseResult>,
  sm: LeaseStateMachine,
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    if (signal?.aborted) throw new Error("aborted while waiting to join the Raft group");
    if (node.failure) throw node.failure;
    const failure = s.failure();
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
      throw new Error(`did not join the Raft group within ${timeoutMs} ms (members: ${s.voters.join(", ")})`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export async function startLeaseService(
  settings: LiteFSSettings,
  overrides: LeaseServiceOverrides = {},
): Promise<RunningLeaseService> {
  const s = await startup(settings, overrides);
  // Always a token: without one any local process could delete or rewrite the lease key.
  const token =
    overrides.token === undefined
      ? resolveLeaseToken(s.raft)
      : { token: overrides.token, source: "setting" as const, path: null };
  let service: LeaseService | null = null;
  const sm = new LeaseStateMachine({ now: realClock.now, onChange: (c: LeaseChange) => service?.onStateChange(c) });
  const { node, transport } = await startRaftMember(s, sm, () => service);
  let ends: FrontEnds;
  try {
    ends = await startFrontEnds(s, sm, node, token.token, (created) => (service = created));
  } catch (e) {
    await node.close();
    throw e;
  }
  const { http, forwardServer, forwarder } = ends;
  const svc = ends.service;
  s.log.info(
    {
      httpPort: http.port,
      raft: s.raft.selfAddr,
      peers: s.raft.peers,
      forward: forwardServer.advertiseAddr,
      statePath: s.statePath,
      token: token.source,
      tokenPath: token.path,
    },
    "lease service started",
  );
  let closed = false;
  return {
    httpPort: http.port,
    raftPort: transport.address.port,
    forwardAddr: forwardServer.advertiseAddr,
    statePath: s.statePath,
    tokenPath: token.path,
    failed: s.failed,
    status: () => ({
      raft: node.status(),
      lease: svc.publishedState(),
      httpPort: http.port,
      forwardAddr: forwardServer.advertiseAddr,
    }),
    waitUntilJoined: (timeoutMs, signal) => waitUntilJoined(s, node, sm, timeoutMs, signal),
    endLocalSessions: (timeoutMs) => svc.endLocalSessions(timeoutMs),
    async close() {
      if (closed) return;
      closed = true;
      svc.close();
      await http.close();
      forwarder.close();
      await forwardServer.close();
      await node.close();
      rmSync(s.statePath, { force: true });
    },
  };
}
