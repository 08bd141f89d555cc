// renderLitefsConfig(): settings -> litefs.yml text for LiteFS v0.5.14. Only keys that version
// knows (litefs-keys.ts), in the order its docs and the recorded fixtures use.

import { Document, Scalar } from "yaml";
import { ConfigError } from "../errors.js";
import type { LiteFSSettings } from "./types.js";

/**
 * The lease service stands in for Consul; these are the values the Raft lease design assumes:
 * TTL 5 s and lock-delay 500 ms keep failover within 5 s (docs/fast-failover.md, "Settings").
 */
export const CONSUL_LEASE = Object.freeze({ key: "litefs/primary", ttl: "5s", lockDelay: "500ms" });

type Section = Record<string, unknown>;

export interface RenderOptions {
  /**
   * raft: the lease service's token. It becomes lease.consul.url's password, which LiteFS sends
   * as X-Consul-Token; the text then holds a secret and must be written 0600.
   */
  readonly leaseToken?: string | null;
}

function notRenderable(setting: string, env: string | null, message: string): ConfigError {
  return new ConfigError([{ setting, env, message }]);
}

function staticLease(settings: LiteFSSettings): Section {
  const { primaryHostname, primaryUrl, nodeId } = settings;
  if (primaryHostname === null) {
    throw notRenderable("primaryHostname", "LITEFS_PRIMARY_HOSTNAME", "is required to render a static lease");
  }
  if (primaryUrl === null)
    throw notRenderable("primaryUrl", "LITEFS_PRIMARY_URL", "is required to render a static lease");
  // Every node names the primary; only the primary itself is a candidate, so it holds the lease for good.
  return {
    type: "static",
    hostname: primaryHostname,
    "advertise-url": primaryUrl,
    candidate: nodeId === primaryHostname,
  };
}

function raftLease(settings: LiteFSSettings, leaseToken: string | null): Section {
  const { raft, nodeId, advertiseUrl } = settings;
  if (raft === null)
    throw notRenderable("raft.selfAddr", "LITEFS_RAFT_SELF_ADDR", "raft settings are required to render a raft lease");
  if (nodeId === null) throw notRenderable("nodeId", "LITEFS_NODE_ID", "is required to render a raft lease");
  if (advertiseUrl === null)
    throw notRenderable("advertiseUrl", "LITEFS_ADVERTISE_URL", "is required to render a raft lease");
  return {
    type: "consul",
    hostname: nodeId,
    "advertise-url": advertiseUrl,
    candidate: true,
    // No `promote`: with it, a starting or restarted node asks the primary for a LiteFS handoff,
    // which on real clusters killed nodes (exit 1 on simultaneous starts; exit 99 and a lost
    // acknowledged write when the primary was writing). Moving the primary is `litefs-node
    // handoff`'s job: it closes the write gate and waits for the target to catch up first.
    consul: {
      // The token's characters are URL-safe by the setting's rule (config/fields.ts).
      url: leaseToken ? `http://:${leaseToken}@127.0.0.1:${raft.leasePort}` : `http://127.0.0.1:${raft.leasePort}`,
      key: CONSUL_LEASE.key,
      ttl: CONSUL_LEASE.ttl,
      "lock-delay": CONSUL_LEASE.lockDelay,
    },
  };
}

/**
 * consul mode: LiteFS's own lease in the user's Consul. Values only LiteFS reads go through as
 * written, `${VAR}` references included: LiteFS expands them when it reads the file.
 */
function userConsulLease(settings: LiteFSSettings): Section {
  const { consul, advertiseUrl } = settings;
  if (consul === null || consul.url === null) {
    throw notRenderable(
      "consul.url",
      "LITEFS_CONSUL_URL",
      `is required to render a consul lease: Consul's HTTP API URL, e.g. "\${FLY_CONSUL_URL}" on Fly.io (LiteFS expands it) or "http://127.0.0.1:8500"`,
    );
  }
  if (advertiseUrl === null)
    throw notRenderable("advertiseUrl", "LITEFS_ADVERTISE_URL", "is required to render a consul lease");
  return {
    type: "consul",
    // Omitted when nodeId defaulted to the hostname: LiteFS then reads it where it runs.
    ...(consul.leaseHostname !== null ? { hostname: consul.leaseHostname } : {}),
    "advertise-url": advertiseUrl,
    candidate: consul.candidate,
    promote: consul.promote,
    consul: { url: consul.url, key: consul.key, ttl: consul.ttl, "lock-delay": consul.lockDelay },
  };
}

function leaseSection(settings: LiteFSSettings, leaseToken: string | null): Section {
  switch (settings.leaderElection) {
    case "static":
      return staticLease(settings);
    case "raft":
      return raftLease(settings, leaseToken);
    case "consul":
      return userConsulLease(settings);
  }
}

/** The litefs.yml document as a plain object (what renderLitefsConfig serializes). */
export function litefsConfigDocument(settings: LiteFSSettings, options: RenderOptions = {}): Section {
  if (!settings.enabled) {
    throw notRenderable(
      "enabled",
      "LITEFS_ENABLED",
      "is false (dev mode): LiteFS is not used in dev mode, so there is no litefs.yml to render; set enabled to true",
    );
  }
  const doc: Section = {
    fuse: { dir: settings.mountPath },
    data: { dir: settings.dataPath, retention: settings.retention },
    http: { addr: settings.httpAddr },
  };
  if (settings.proxy !== null) {
    const proxy: Section = { addr: settings.proxy.addr, target: settings.proxy.target, db: settings.proxy.db };
    if (settings.proxy.passthrough.length > 0) proxy.passthrough = [...settings.proxy.passthrough];
    if (settings.proxy.maxLag !== null) proxy["max-lag"] = settings.proxy.maxLag;
    doc.proxy = proxy;
  }
  if (settings.exec !== null) doc.exec = settings.exec;
  doc.lease = leaseSection(settings, options.leaseToken ?? null);
  return doc;
}

/**
 * First line of every litefs.yml litefs-node writes. `litefs-node run` overwrites a config file
 * only when it starts with this line, so a hand-written file is never replaced silently.
 */
const GENERATED_HEADER =
  "# litefs.yml for LiteFS v0.5.14, generated by litefs-node from its settings; rewritten on every start, do not edit.";

/** True when `text` is a file litefs-node wrote (its first line is GENERATED_HEADER or an older header of ours). */
export function isGeneratedLitefsConfig(text: string): boolean {
  const first = text.split("\n", 1)[0] ?? "";
  // Older versions wrote "... generated by litefs-node from its settings." and "... generated by `litefs-node run` ...".
  return (
    first === GENERATED_HEADER ||
    /^# litefs\.yml for LiteFS v[\d.]+, generated by `?litefs-node( run`)? from its settings/.test(first)
  );
}

/** A litefs.yml document as text, under GENERATED_HEADER. */
export function serializeLitefsConfig(doc: Section): string {
  const yaml = new Document(doc);
  // A candidate comparison ("${FLY_REGION == PRIMARY_REGION}") must stay a plain scalar: LiteFS
  // expands it to true/false before decoding, and a quoted "true" is no boolean to Go's decoder.
  const candidate = yaml.getIn(["lease", "candidate"], true);
  if (candidate instanceof Scalar && typeof candidate.value === "string") candidate.type = Scalar.PLAIN;
  // Strings double-quoted like the recorded fixtures: no value can be misread by Go's YAML decoder
  // (":20202", "yes", "0", "null" all stay strings). lineWidth 0: never fold long values.
  return (
    `${GENERATED_HEADER}\n` +
    yaml.toString({ lineWidth: 0, defaultStringType: "QUOTE_DOUBLE", defaultKeyType: "PLAIN" })
  );
}

/**
 * litefs.yml text for these settings.
 * @throws ConfigError for dev-mode settings (LiteFS is not used there).
 */
export function renderLitefsConfig(settings: LiteFSSettings, options: RenderOptions = {}): string {
  return serializeLitefsConfig(litefsConfigDocument(settings, options));
}
