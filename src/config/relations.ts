// Layer 2 of the settings schema: rules between settings (dataPath vs mountPath, what each
// election mode requires, peers vs selfAddr, listeners that would clash). They run even when a
// field failed, so one run reports EVERY problem, and look only at fields that passed layer 1,
// so one bad value is never reported twice.

import type * as z from "zod";
import { httpUrlProblem, parseHostPort, parseListenAddr, type HostPort } from "./addresses.js";
import { hostname } from "node:os";
import {
  consulFields,
  DEFAULTS,
  defaultApiUrl,
  EXAMPLE_API_URL,
  fields,
  isRecord,
  proxyFields,
  raftFields,
  validValue,
  type Raw,
} from "./fields.js";
import { isSameDir, isSameOrInside } from "./paths.js";
import type { LeaderElection } from "./types.js";

type Ctx = z.RefinementCtx<Raw>;

function issue(ctx: Ctx, path: string[], message: string): void {
  ctx.addIssue({ code: "custom", message, path, input: undefined });
}

/** The parsed listen address, or undefined when absent or malformed (already reported). */
function addrOf(text: string | undefined): HostPort | undefined {
  if (text === undefined) return undefined;
  const parsed = parseListenAddr(text);
  return parsed.ok ? parsed.value : undefined;
}

const WILDCARD_HOSTS = new Set(["", "0.0.0.0", "::"]);

/** Two listeners on one machine cannot share a port when either listens everywhere or both on one host. */
function listenersClash(a: HostPort, b: HostPort): boolean {
  if (a.port !== b.port) return false;
  return WILDCARD_HOSTS.has(a.host) || WILDCARD_HOSTS.has(b.host) || a.host.toLowerCase() === b.host.toLowerCase();
}

/** "host:port" compared the way a network would: host case-insensitively, brackets and port as numbers. */
function addressKey(text: string): string {
  const parsed = parseHostPort(text);
  return parsed.ok ? `${parsed.value.host.toLowerCase()}|${parsed.value.port}` : text;
}

/** The default URL built from a node name, or null when that name cannot be a URL host. */
function derivableUrl(host: string, httpAddr: string): string | null {
  const url = defaultApiUrl(host, httpAddr);
  if (httpUrlProblem(url, EXAMPLE_API_URL) !== null) return null;
  const parsed = new URL(url);
  const bare = parsed.hostname.replace(/^\[|\]$/g, "");
  return bare.toLowerCase() === host.toLowerCase() ? url : null;
}

export function checkRelations(raw: Raw, ctx: Ctx): void {
  const v = <K extends keyof typeof fields>(key: K) => validValue(fields, raw, key);
  const enabled = v("enabled") ?? DEFAULTS.enabled;
  // An unknown election mode is already reported; mode-specific rules would only add noise.
  const modeText = raw.leaderElection === undefined ? DEFAULTS.leaderElection : v("leaderElection");
  const mode = modeText as LeaderElection | undefined;
  const mountPath = raw.mountPath === undefined ? DEFAULTS.mountPath : v("mountPath");
  const dataPath = raw.dataPath === undefined ? DEFAULTS.dataPath : v("dataPath");
  const httpAddr = raw.httpAddr === undefined ? DEFAULTS.httpAddr : v("httpAddr");

  if (mountPath !== undefined && dataPath !== undefined && isSameOrInside(dataPath, mountPath)) {
    issue(
      ctx,
      ["dataPath"],
      `must not be ${isSameDir(dataPath, mountPath) ? "the same as" : "inside"} mountPath ${JSON.stringify(mountPath)}: LiteFS keeps its internal data outside the FUSE mount (e.g. "/var/lib/litefs"), got ${JSON.stringify(dataPath)}`,
    );
  }

  // consul mode names the node by its hostname when unset, as LiteFS does.
  if (enabled && mode !== "consul" && (raw.nodeId === undefined || raw.nodeId === null)) {
    issue(
      ctx,
      ["nodeId"],
      `is required when LiteFS is enabled: name this node, e.g. "node-a" (or set enabled to false for dev mode)`,
    );
  }

  if (mode === "static") checkStatic(raw, ctx, enabled, httpAddr);
  if (mode === "raft") checkRaft(raw, ctx, enabled, httpAddr, mountPath);
  if (mode === "consul") checkConsul(raw, ctx, httpAddr);
  if (mode !== undefined && mode !== "consul") refuseSection(raw, ctx, "consul", consulFields, mode);

  checkProxy(raw, ctx, httpAddr);
}

function checkStatic(raw: Raw, ctx: Ctx, enabled: boolean, httpAddr: string | undefined): void {
  const primaryHostname = validValue(fields, raw, "primaryHostname");
  if (enabled && (raw.primaryHostname === undefined || raw.primaryHostname === null)) {
    issue(
      ctx,
      ["primaryHostname"],
      `is required when leaderElection is "static": the nodeId of the node that is always primary, e.g. "node-a"`,
    );
  }
  if (
    primaryHostname &&
    raw.primaryUrl == null &&
    httpAddr !== undefined &&
    derivableUrl(primaryHostname, httpAddr) === null
  ) {
    issue(
      ctx,
      ["primaryUrl"],
      `cannot default to http://<primaryHostname>:<port> because primaryHostname ${JSON.stringify(primaryHostname)} is not a valid URL host: set primaryUrl to the primary's LiteFS API URL, e.g. ${JSON.stringify(EXAMPLE_API_URL)}`,
    );
  }
  if (raw.advertiseUrl != null) {
    issue(
      ctx,
      ["advertiseUrl"],
      `is used only when leaderElection is "raft" or "consul"; in static mode every node advertises primaryUrl (LITEFS_PRIMARY_URL)`,
    );
  }
  refuseSection(raw, ctx, "raft", raftFields, "static");
}

/** Settings of a section that belongs to another election mode: say which mode they need. */
function refuseSection(
  raw: Raw,
  ctx: Ctx,
  section: "raft" | "consul",
  shape: Record<string, unknown>,
  mode: LeaderElection,
): void {
  const values = raw[section];
  if (!isRecord(values)) return;
  const given = Object.keys(values).filter((key) => key in shape && values[key] !== undefined);
  for (const key of given) {
    issue(
      ctx,
      [section, key],
      `is set but leaderElection is "${mode}": set leaderElection (LITEFS_LEADER_ELECTION) to "${section}", or remove the ${section} settings`,
    );
  }
}

function checkConsul(raw: Raw, ctx: Ctx, httpAddr: string | undefined): void {
  for (const key of ["primaryHostname", "primaryUrl"] as const) {
    if (raw[key] != null) {
      issue(
        ctx,
        [key],
        `is used only when leaderElection is "static"; with "consul" LiteFS elects the primary through Consul, so remove it`,
      );
    }
  }
  refuseSection(raw, ctx, "raft", raftFields, "consul");
  const nodeId = raw.nodeId == null ? hostname() : validValue(fields, raw, "nodeId");
  if (nodeId && raw.advertiseUrl == null && httpAddr !== undefined && derivableUrl(nodeId, httpAddr) === null) {
    issue(
      ctx,
      ["advertiseUrl"],
      `cannot default to http://<nodeId>:<port> because nodeId ${JSON.stringify(nodeId)} is not a valid URL host: set advertiseUrl to this node's LiteFS API URL as other nodes reach it, e.g. ${JSON.stringify(EXAMPLE_API_URL)}`,
    );
  }
}

function checkRaft(
  raw: Raw,
  ctx: Ctx,
  enabled: boolean,
  httpAddr: string | undefined,
  mountPath: string | undefined,
): void {
  for (const key of ["primaryHostname", "primaryUrl"] as const) {
    if (raw[key] != null) {
      issue(
        ctx,
        [key],
        `is used only when leaderElection is "static"; with "raft" the nodes elect the primary themselves, so remove it`,
      );
    }
  }
  const nodeId = validValue(fields, raw, "nodeId");
  if (nodeId && raw.advertiseUrl == null && httpAddr !== undefined && derivableUrl(nodeId, httpAddr) === null) {
    issue(
      ctx,
      ["advertiseUrl"],
      `cannot default to http://<nodeId>:<port> because nodeId ${JSON.stringify(nodeId)} is not a valid URL host: set advertiseUrl to this node's LiteFS API URL, e.g. ${JSON.stringify(EXAMPLE_API_URL)}`,
    );
  }

  const raft = isRecord(raw.raft) ? raw.raft : undefined;
  // A raft section that is present must be complete; an absent one is only needed when enabled.
  if (raft === undefined && !enabled) return;
  requireRaftFields(raft, ctx);
  const selfAddr = validValue(raftFields, raft, "selfAddr");
  checkRaftPeers(raft, ctx, selfAddr);
  const dataDir = validValue(raftFields, raft, "dataDir");
  if (dataDir !== undefined && mountPath !== undefined && isSameOrInside(dataDir, mountPath)) {
    issue(
      ctx,
      ["raft", "dataDir"],
      `must not be inside mountPath ${JSON.stringify(mountPath)}: Raft state cannot live on the replicated FUSE mount, got ${JSON.stringify(dataDir)}`,
    );
  }
  checkRaftPorts(raft, ctx, selfAddr, httpAddr);
}

/** selfAddr, peers and secret have no default: each missing one is named with an example. */
function requireRaftFields(raft: Raw | undefined, ctx: Ctx): void {
  if (raft?.selfAddr === undefined) {
    issue(
      ctx,
      ["raft", "selfAddr"],
      `is required when leaderElection is "raft": this node's Raft address, e.g. "node-a:4001"`,
    );
  }
  if (raft?.peers === undefined) {
    issue(
      ctx,
      ["raft", "peers"],
      `is required when leaderElection is "raft": the other members' addresses, e.g. "node-b:4001,node-c:4001"`,
    );
  }
  if (raft?.secret === undefined || raft.secret === null) {
    issue(
      ctx,
      ["raft", "secret"],
      `is required when leaderElection is "raft": the same random string (at least 16 characters) on every member, e.g. from \`openssl rand -hex 32\``,
    );
  }
}

/** At least one peer, none listed twice, and not this node itself. */
function checkRaftPeers(raft: Raw | undefined, ctx: Ctx, selfAddr: string | undefined): void {
  // Judge duplicates among the well-formed peers even when another entry is malformed.
  const peerItem = raftFields.peers.element;
  const peers = Array.isArray(raft?.peers)
    ? raft.peers.filter((p): p is string => peerItem.safeParse(p).success)
    : undefined;
  if (peers !== undefined) {
    if (Array.isArray(raft?.peers) && raft.peers.length === 0) {
      issue(
        ctx,
        ["raft", "peers"],
        `must list at least one other member's "host:port", e.g. "node-b:4001"; got an empty list`,
      );
    }
    const seen = new Set<string>();
    const reported = new Set<string>();
    for (const peer of peers) {
      const key = addressKey(peer);
      if (seen.has(key) && !reported.has(key)) {
        reported.add(key);
        issue(ctx, ["raft", "peers"], `lists ${JSON.stringify(peer)} more than once: each member may appear only once`);
      }
      seen.add(key);
    }
    if (selfAddr !== undefined && seen.has(addressKey(selfAddr))) {
      issue(
        ctx,
        ["raft", "peers"],
        `must not include this node's own address raft.selfAddr ${JSON.stringify(selfAddr)} (LITEFS_RAFT_SELF_ADDR): list only the other members`,
      );
    }
  }
}

/** The forwarding and lease listeners must not take a port another listener on the same host has. */
function checkRaftPorts(
  raft: Raw | undefined,
  ctx: Ctx,
  selfAddr: string | undefined,
  httpAddr: string | undefined,
): void {
  const forwardPort = validValue(raftFields, raft, "forwardPort");
  const self = addrOf(selfAddr);
  if (typeof forwardPort === "number" && self !== undefined && self.port === forwardPort) {
    issue(
      ctx,
      ["raft", "forwardPort"],
      `must differ from the Raft port in raft.selfAddr ${JSON.stringify(selfAddr)}: both listen on that host`,
    );
  }
  const leasePort = raft?.leasePort === undefined ? DEFAULTS.leasePort : validValue(raftFields, raft, "leasePort");
  const api = addrOf(httpAddr);
  if (
    leasePort !== undefined &&
    api !== undefined &&
    listenersClash(api, { host: "127.0.0.1", port: leasePort, bracketed: false })
  ) {
    issue(
      ctx,
      ["raft", "leasePort"],
      `must differ from the LiteFS API port in httpAddr ${JSON.stringify(httpAddr)}: both listen on 127.0.0.1`,
    );
  }
}

function checkProxy(raw: Raw, ctx: Ctx, httpAddr: string | undefined): void {
  if (!isRecord(raw.proxy)) return;
  const proxy = raw.proxy;
  if (proxy.target === undefined) {
    issue(
      ctx,
      ["proxy", "target"],
      `is required when the proxy is used: the address of your app, e.g. "localhost:3000"`,
    );
  }
  const addr = proxy.addr === undefined ? DEFAULTS.proxyAddr : validValue(proxyFields, proxy, "addr");
  const listen = addrOf(addr);
  const api = addrOf(httpAddr);
  if (listen !== undefined && api !== undefined && listenersClash(listen, api)) {
    issue(
      ctx,
      ["proxy", "addr"],
      `must not use the same port as httpAddr ${JSON.stringify(httpAddr)} (the LiteFS API), got ${JSON.stringify(addr)}`,
    );
  }
}
