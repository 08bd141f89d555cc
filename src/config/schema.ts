// The one zod schema for litefs-node settings. Three layers:
//   1. field schemas: each value on its own (type, format), with messages a person can act on;
//   2. relations between fields (dataPath vs mountPath, what each election mode requires, peers
//      vs selfAddr). They run even when some field failed, so one run reports EVERY problem;
//      they only look at fields that passed layer 1, so one bad value is not reported twice;
//   3. defaults, filled in only once everything is valid.

import { posix, resolve } from "node:path";
import * as z from "zod";
import {
  formatHostPort,
  httpUrlProblem,
  parseHostPort,
  parseListenAddr,
  portProblem,
  type HostPort,
} from "./addresses.js";
import { goDurationProblem } from "./durations.js";
import { absolutePathProblem, fileNameProblem, isSameDir, isSameOrInside } from "./paths.js";
import { LEADER_ELECTIONS, type LeaderElection, type LiteFSSettings, type ProxySettings, type RaftSettings } from "./types.js";

export const DEFAULTS = Object.freeze({
  enabled: true,
  mountPath: "/litefs",
  dataPath: "/var/lib/litefs",
  databaseName: "db.sqlite3",
  leaderElection: "static" as LeaderElection,
  httpAddr: ":20202",
  retention: "1h",
  proxyAddr: ":8080",
  leasePort: 8500,
  devDirectory: "./.litefs-dev",
  raftDirName: "raft",
});

/** A string schema whose format is judged by `problem` (returns a message, or null when fine). */
function text(problem: (value: string) => string | null) {
  return z.string().superRefine((value, ctx) => {
    const message = problem(value);
    if (message !== null) ctx.addIssue({ code: "custom", message, input: value });
  });
}

const nodeNameProblem = (value: string): string | null => {
  if (value === "") return `must not be empty: give the node a name such as "node-a"`;
  if (/[\s\u0000-\u001f\u007f]/.test(value)) {
    return `must be a name without spaces or control characters such as "node-a", got ${JSON.stringify(value)}`;
  }
  return null;
};

const nonBlankProblem = (example: string) => (value: string): string | null =>
  value.trim() === "" || value.includes("\0")
    ? `must be a non-empty string such as ${JSON.stringify(example)}, got ${JSON.stringify(value)}`
    : null;

const leaderElectionProblem = (value: string): string | null =>
  (LEADER_ELECTIONS as readonly string[]).includes(value)
    ? null
    : `must be one of ${LEADER_ELECTIONS.map((m) => JSON.stringify(m)).join(" or ")}, got ${JSON.stringify(value)}`;

const listenAddrProblem = (value: string): string | null => {
  const parsed = parseListenAddr(value);
  return parsed.ok ? null : parsed.message;
};

const hostPortProblem = (example: string) => (value: string): string | null => {
  const parsed = parseHostPort(value, example);
  return parsed.ok ? null : parsed.message;
};

const EXAMPLE_API_URL = "http://node-a:20202";

const proxyFields = {
  addr: text((v) => {
    const parsed = parseListenAddr(v, `":8080"`);
    return parsed.ok ? null : parsed.message;
  }),
  target: text(hostPortProblem(`"localhost:3000"`)),
  db: text(fileNameProblem),
  passthrough: z.array(text(nonBlankProblem("/static/*"))),
  maxLag: text(goDurationProblem).nullable(),
};

const raftFields = {
  selfAddr: text(hostPortProblem(`"node-a:4001"`)),
  peers: z.array(text(hostPortProblem(`"node-b:4001"`))),
  leasePort: z.number().superRefine((value, ctx) => {
    const message = portProblem(value);
    if (message !== null) ctx.addIssue({ code: "custom", message, input: value });
  }),
  secret: text(nonBlankProblem("a-long-random-string")).nullable(),
  dataDir: text(absolutePathProblem),
};

const fields = {
  enabled: z.boolean(),
  devDatabasePath: text(nonBlankProblem("./.litefs-dev/db.sqlite3")),
  mountPath: text(absolutePathProblem),
  dataPath: text(absolutePathProblem),
  databaseName: text(fileNameProblem),
  nodeId: text(nodeNameProblem).nullable(),
  leaderElection: text(leaderElectionProblem),
  primaryHostname: text(nodeNameProblem).nullable(),
  primaryUrl: text((v) => httpUrlProblem(v, EXAMPLE_API_URL)).nullable(),
  httpAddr: text(listenAddrProblem),
  advertiseUrl: text((v) => httpUrlProblem(v, EXAMPLE_API_URL)).nullable(),
  proxy: z.strictObject(optionalAll(proxyFields)).nullable(),
  retention: text(goDurationProblem),
  raft: z.strictObject(optionalAll(raftFields)).nullable(),
  exec: text(nonBlankProblem("node server.js")).nullable(),
};

function optionalAll<T extends Record<string, z.ZodType>>(shape: T): { [K in keyof T]: z.ZodOptional<T[K]> } {
  const out: Record<string, z.ZodType> = {};
  for (const [key, schema] of Object.entries(shape)) out[key] = schema.optional();
  return out as { [K in keyof T]: z.ZodOptional<T[K]> };
}

/** Names of the settings an input object may hold, for "unknown key" messages. */
export const SETTING_KEYS = Object.freeze({
  root: Object.freeze(Object.keys(fields)),
  proxy: Object.freeze(Object.keys(proxyFields)),
  raft: Object.freeze(Object.keys(raftFields)),
});

type Raw = Record<string, unknown>;
type Ctx = z.RefinementCtx<Raw>;

function isRecord(value: unknown): value is Raw {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** The value of `key` when it is present and passed its field schema, else undefined. */
function validValue<S extends Record<string, z.ZodType>, K extends keyof S & string>(
  shape: S,
  raw: Raw | undefined,
  key: K,
): z.output<S[K]> | undefined {
  if (raw === undefined || raw[key] === undefined) return undefined;
  const parsed = shape[key]!.safeParse(raw[key]);
  return parsed.success ? (parsed.data as z.output<S[K]>) : undefined;
}

function issue(ctx: Ctx, path: string[], message: string): void {
  ctx.addIssue({ code: "custom", message, path, input: undefined });
}

function addrOf(text: string | undefined, fallback?: string): HostPort | undefined {
  const source = text ?? fallback;
  if (source === undefined) return undefined;
  const parsed = parseListenAddr(source);
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

function defaultApiUrl(host: string, httpAddr: string): string {
  const port = addrOf(httpAddr)?.port ?? 20202;
  return `http://${formatHostPort(host, port)}`;
}

/** The default URL built from a node name, or null when that name cannot be a URL host. */
function derivableUrl(host: string, httpAddr: string): string | null {
  const url = defaultApiUrl(host, httpAddr);
  if (httpUrlProblem(url, EXAMPLE_API_URL) !== null) return null;
  const parsed = new URL(url);
  const bare = parsed.hostname.replace(/^\[|\]$/g, "");
  return bare.toLowerCase() === host.toLowerCase() ? url : null;
}

function checkRelations(raw: Raw, ctx: Ctx): void {
  const v = <K extends keyof typeof fields & string>(key: K) => validValue(fields, raw, key);
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

  if (enabled && (raw.nodeId === undefined || raw.nodeId === null)) {
    issue(ctx, ["nodeId"], `is required when LiteFS is enabled: name this node, e.g. "node-a" (or set enabled to false for dev mode)`);
  }

  if (mode === "static") checkStatic(raw, ctx, enabled, httpAddr);
  if (mode === "raft") checkRaft(raw, ctx, enabled, httpAddr, mountPath);

  checkProxy(raw, ctx, httpAddr);
}

function checkStatic(raw: Raw, ctx: Ctx, enabled: boolean, httpAddr: string | undefined): void {
  const primaryHostname = validValue(fields, raw, "primaryHostname");
  if (enabled && (raw.primaryHostname === undefined || raw.primaryHostname === null)) {
    issue(ctx, ["primaryHostname"], `is required when leaderElection is "static": the nodeId of the node that is always primary, e.g. "node-a"`);
  }
  if (primaryHostname && raw.primaryUrl == null && httpAddr !== undefined && derivableUrl(primaryHostname, httpAddr) === null) {
    issue(
      ctx,
      ["primaryUrl"],
      `cannot default to http://<primaryHostname>:<port> because primaryHostname ${JSON.stringify(primaryHostname)} is not a valid URL host: set primaryUrl to the primary's LiteFS API URL, e.g. ${JSON.stringify(EXAMPLE_API_URL)}`,
    );
  }
  if (raw.advertiseUrl != null) {
    issue(ctx, ["advertiseUrl"], `is used only when leaderElection is "raft"; in static mode every node advertises primaryUrl (LITEFS_PRIMARY_URL)`);
  }
  if (isRecord(raw.raft)) {
    const raft = raw.raft;
    const given = Object.keys(raft).filter((key) => key in raftFields && raft[key] !== undefined);
    for (const key of given) {
      issue(ctx, ["raft", key], `is set but leaderElection is "static": set leaderElection (LITEFS_LEADER_ELECTION) to "raft", or remove the raft settings`);
    }
  }
}

function checkRaft(raw: Raw, ctx: Ctx, enabled: boolean, httpAddr: string | undefined, mountPath: string | undefined): void {
  for (const key of ["primaryHostname", "primaryUrl"] as const) {
    if (raw[key] != null) {
      issue(ctx, [key], `is used only when leaderElection is "static"; with "raft" the nodes elect the primary themselves, so remove it`);
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
  if (raft?.selfAddr === undefined) {
    issue(ctx, ["raft", "selfAddr"], `is required when leaderElection is "raft": this node's Raft address, e.g. "node-a:4001"`);
  }
  if (raft?.peers === undefined) {
    issue(ctx, ["raft", "peers"], `is required when leaderElection is "raft": the other members' addresses, e.g. "node-b:4001,node-c:4001"`);
  }
  const selfAddr = validValue(raftFields, raft, "selfAddr");
  // Judge duplicates among the well-formed peers even when another entry is malformed.
  const peerItem = raftFields.peers.element;
  const peers = Array.isArray(raft?.peers)
    ? raft.peers.filter((p): p is string => peerItem.safeParse(p).success)
    : undefined;
  if (peers !== undefined) {
    if (Array.isArray(raft?.peers) && raft.peers.length === 0) {
      issue(ctx, ["raft", "peers"], `must list at least one other member's "host:port", e.g. "node-b:4001"; got an empty list`);
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
  const dataDir = validValue(raftFields, raft, "dataDir");
  if (dataDir !== undefined && mountPath !== undefined && isSameOrInside(dataDir, mountPath)) {
    issue(ctx, ["raft", "dataDir"], `must not be inside mountPath ${JSON.stringify(mountPath)}: Raft state cannot live on the replicated FUSE mount, got ${JSON.stringify(dataDir)}`);
  }
  const leasePort = raft?.leasePort === undefined ? DEFAULTS.leasePort : validValue(raftFields, raft, "leasePort");
  const api = addrOf(httpAddr);
  if (leasePort !== undefined && api !== undefined && listenersClash(api, { host: "127.0.0.1", port: leasePort, bracketed: false })) {
    issue(ctx, ["raft", "leasePort"], `must differ from the LiteFS API port in httpAddr ${JSON.stringify(httpAddr)}: both listen on 127.0.0.1`);
  }
}

function checkProxy(raw: Raw, ctx: Ctx, httpAddr: string | undefined): void {
  if (!isRecord(raw.proxy)) return;
  const proxy = raw.proxy;
  if (proxy.target === undefined) {
    issue(ctx, ["proxy", "target"], `is required when the proxy is used: the address of your app, e.g. "localhost:3000"`);
  }
  const addr = proxy.addr === undefined ? DEFAULTS.proxyAddr : validValue(proxyFields, proxy, "addr");
  const listen = addrOf(addr);
  const api = addrOf(httpAddr);
  if (listen !== undefined && api !== undefined && listenersClash(listen, api)) {
    issue(ctx, ["proxy", "addr"], `must not use the same port as httpAddr ${JSON.stringify(httpAddr)} (the LiteFS API), got ${JSON.stringify(addr)}`);
  }
}

/** Fills every default; runs only once all fields and relations are valid. */
function applyDefaults(raw: Raw, cwd: string): LiteFSSettings {
  const get = <K extends keyof typeof fields & string>(key: K) => validValue(fields, raw, key);
  const enabled = get("enabled") ?? DEFAULTS.enabled;
  const databaseName = get("databaseName") ?? DEFAULTS.databaseName;
  const dataPath = get("dataPath") ?? DEFAULTS.dataPath;
  const httpAddr = get("httpAddr") ?? DEFAULTS.httpAddr;
  const leaderElection = (get("leaderElection") ?? DEFAULTS.leaderElection) as LeaderElection;
  const nodeId = get("nodeId") ?? null;
  const primaryHostname = leaderElection === "static" ? (get("primaryHostname") ?? null) : null;
  const primaryUrl =
    leaderElection === "static"
      ? (get("primaryUrl") ?? (primaryHostname !== null ? defaultApiUrl(primaryHostname, httpAddr) : null))
      : null;
  const advertiseUrl =
    leaderElection === "raft" ? (get("advertiseUrl") ?? (nodeId !== null ? defaultApiUrl(nodeId, httpAddr) : null)) : null;

  const rawProxy = get("proxy");
  const proxy: ProxySettings | null = rawProxy
    ? {
        addr: rawProxy.addr ?? DEFAULTS.proxyAddr,
        target: rawProxy.target as string,
        db: rawProxy.db ?? databaseName,
        passthrough: rawProxy.passthrough ?? [],
        maxLag: rawProxy.maxLag ?? null,
      }
    : null;

  const rawRaft = leaderElection === "raft" ? get("raft") : null;
  const raft: RaftSettings | null = rawRaft
    ? {
        selfAddr: rawRaft.selfAddr as string,
        peers: rawRaft.peers ?? [],
        leasePort: rawRaft.leasePort ?? DEFAULTS.leasePort,
        secret: rawRaft.secret ?? null,
        dataDir: rawRaft.dataDir ?? posix.join(dataPath, DEFAULTS.raftDirName),
      }
    : null;

  return {
    enabled,
    devDatabasePath: resolve(cwd, get("devDatabasePath") ?? posix.join(DEFAULTS.devDirectory, databaseName)),
    mountPath: get("mountPath") ?? DEFAULTS.mountPath,
    dataPath,
    databaseName,
    nodeId,
    leaderElection,
    primaryHostname,
    primaryUrl,
    httpAddr,
    advertiseUrl,
    proxy,
    retention: get("retention") ?? DEFAULTS.retention,
    raft,
    exec: get("exec") ?? null,
  };
}

/**
 * The settings schema: merged input (object over env) in, fully defaulted settings out.
 * `cwd` anchors a relative devDatabasePath.
 */
export function settingsSchema(cwd: string = process.cwd()) {
  return z
    .strictObject(optionalAll(fields))
    .superRefine((value, ctx) => checkRelations(value as Raw, ctx as unknown as Ctx), {
      // Run even when a field failed, so every problem is reported in one go.
      when: (payload) => isRecord(payload.value),
    })
    .transform((value) => applyDefaults(value as Raw, cwd));
}
