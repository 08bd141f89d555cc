// The one zod schema for litefs-node settings, in three layers:
//   1. fields.ts: each value on its own (type, format);
//   2. relations.ts: rules between values, run even when a field failed so EVERY problem is reported;
//   3. defaults, filled in here only once everything is valid.

import { hostname } from "node:os";
import { posix, resolve } from "node:path";
import * as z from "zod";
import { DEFAULTS, defaultApiUrl, fields, isRecord, optionalAll, validValue, type Raw } from "./fields.js";
import { checkRelations } from "./relations.js";
import type { ConsulSettings, LeaderElection, LiteFSSettings, ProxySettings, RaftSettings } from "./types.js";

export { SETTING_KEYS } from "./fields.js";

/** Fills every default; runs only once all fields and relations are valid. */
function applyDefaults(raw: Raw, cwd: string): LiteFSSettings {
  const get = <K extends keyof typeof fields>(key: K) => validValue(fields, raw, key);
  const enabled = get("enabled") ?? DEFAULTS.enabled;
  const databaseName = get("databaseName") ?? DEFAULTS.databaseName;
  const dataPath = get("dataPath") ?? DEFAULTS.dataPath;
  const httpAddr = get("httpAddr") ?? DEFAULTS.httpAddr;
  const leaderElection = (get("leaderElection") ?? DEFAULTS.leaderElection) as LeaderElection;
  const givenNodeId = get("nodeId") ?? null;
  // consul: LiteFS names a node by its hostname unless told otherwise; so does litefs-node.
  const nodeId = givenNodeId ?? (leaderElection === "consul" ? hostname() : null);
  const primaryHostname = leaderElection === "static" ? (get("primaryHostname") ?? null) : null;
  const primaryUrl =
    leaderElection === "static"
      ? (get("primaryUrl") ?? (primaryHostname !== null ? defaultApiUrl(primaryHostname, httpAddr) : null))
      : null;
  const advertiseUrl =
    leaderElection === "raft" || leaderElection === "consul"
      ? (get("advertiseUrl") ?? (nodeId !== null ? defaultApiUrl(nodeId, httpAddr) : null))
      : null;

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
        forwardPort: rawRaft.forwardPort ?? null,
        secret: rawRaft.secret ?? null,
        leaseToken: rawRaft.leaseToken ?? null,
        dataDir: rawRaft.dataDir ?? posix.join(dataPath, DEFAULTS.raftDirName),
        bootstrap: rawRaft.bootstrap ?? false,
      }
    : null;

  const rawConsul = leaderElection === "consul" ? (get("consul") ?? {}) : null;
  const consul: ConsulSettings | null = rawConsul
    ? {
        url: rawConsul.url ?? null,
        key: rawConsul.key ?? DEFAULTS.consulKey,
        ttl: rawConsul.ttl ?? DEFAULTS.consulTtl,
        lockDelay: rawConsul.lockDelay ?? DEFAULTS.consulLockDelay,
        candidate: rawConsul.candidate ?? DEFAULTS.consulCandidate,
        promote: rawConsul.promote ?? DEFAULTS.consulPromote,
        leaseHostname: givenNodeId,
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
    databaseWaitTimeout: get("databaseWaitTimeout") ?? DEFAULTS.databaseWaitTimeout,
    raft,
    consul,
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
    .superRefine((value, ctx) => checkRelations(value as Raw, ctx as unknown as z.RefinementCtx<Raw>), {
      // Run even when a field failed, so every problem is reported in one go.
      when: (payload) => isRecord(payload.value),
    })
    .transform((value) => applyDefaults(value as Raw, cwd));
}
