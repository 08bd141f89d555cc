// The shapes of litefs-node settings: what callers pass in (all optional) and what
// loadSettings() hands back (frozen, every default filled in). Shapes only; rules live in schema.ts.

export type LeaderElection = "static" | "raft" | "consul";

export const LEADER_ELECTIONS: readonly LeaderElection[] = Object.freeze(["static", "raft", "consul"]);

export interface ProxySettings {
  /** Where LiteFS's proxy listens, "[host]:port". */
  readonly addr: string;
  /** The app LiteFS forwards to, "host:port". */
  readonly target: string;
  /** Database whose TXID the proxy tracks (defaults to databaseName). */
  readonly db: string;
  /** URL path patterns the proxy passes through without TXID handling. */
  readonly passthrough: readonly string[];
  /** Go duration; /litefs/health answers 503 beyond this lag. */
  readonly maxLag: string | null;
}

export interface RaftSettings {
  /** "host:port" of this node's Raft TCP listener. */
  readonly selfAddr: string;
  /** Other members' "host:port", self excluded. */
  readonly peers: readonly string[];
  /** Lease service HTTP port on 127.0.0.1 (LiteFS's consul.url points there), default 8500. */
  readonly leasePort: number;
  /** Port of the lease-forwarding listener on selfAddr's host (TLS-PSK); null = a free port. */
  readonly forwardPort: number | null;
  /** Shared secret the TLS pre-shared key is derived from (at least 16 characters); required when enabled, null only in dev mode. */
  readonly secret: string | null;
  /**
   * The X-Consul-Token LiteFS must send to the lease service (16+ characters of A-Z a-z 0-9 . _ ~ -).
   * null = made per node at first start (256 random bits) and kept 0600 in `<dataDir>/lease-token`.
   */
  readonly leaseToken: string | null;
  /** Where Raft keeps its log and snapshots, default `<dataPath>/raft`. */
  readonly dataDir: string;
  /**
   * First start of a new cluster: an empty dataDir is accepted. Otherwise empty Raft storage is
   * refused, because a member that lost its log and vote could break Raft's safety by rejoining.
   */
  readonly bootstrap: boolean;
}

/**
 * consul: LiteFS keeps its own lease in a Consul you run (or Fly.io's, through FLY_CONSUL_URL).
 * Values only LiteFS reads may be `${VAR}` references; LiteFS expands them (env-references.ts).
 */
export interface ConsulSettings {
  /** Consul's HTTP API URL (token as the URL password), or a reference such as "${FLY_CONSUL_URL}"; null: needed only to render litefs.yml. */
  readonly url: string | null;
  /** KV key of the lease, default "litefs/primary" (LiteFS's own default). */
  readonly key: string;
  /** Go duration, session TTL (Consul accepts 10s to 24h), default "10s". */
  readonly ttl: string;
  /** Go duration, lock delay after the holder's session ends (at most 60s), default "1s". */
  readonly lockDelay: string;
  /** lease.candidate: a boolean, or a LiteFS comparison such as "${FLY_REGION == PRIMARY_REGION}". Default true. */
  readonly candidate: boolean | string;
  /** lease.promote: a candidate asks the primary for a handoff when it starts. Default false. */
  readonly promote: boolean;
  /**
   * lease.hostname to write: the nodeId that was set, or null when nodeId defaulted to this
   * machine's hostname, so LiteFS (whose default is the same) reads it at run time, not at render time.
   */
  readonly leaseHostname: string | null;
}

export interface LiteFSSettings {
  /** false = dev mode: a plain local SQLite file, this node always writable, no LiteFS. */
  readonly enabled: boolean;
  /** Absolute (resolved against cwd); default ./.litefs-dev/<databaseName>. */
  readonly devDatabasePath: string;
  readonly mountPath: string;
  readonly dataPath: string;
  readonly databaseName: string;
  /** This node's name (LiteFS lease.hostname); null only in dev mode. consul mode: default this machine's hostname. */
  readonly nodeId: string | null;
  readonly leaderElection: LeaderElection;
  /** static: the node that is primary for good. */
  readonly primaryHostname: string | null;
  /** static: the primary's LiteFS API URL; default http://<primaryHostname>:<httpAddr port>. */
  readonly primaryUrl: string | null;
  /** LiteFS HTTP API listen address, default ":20202". */
  readonly httpAddr: string;
  /** raft and consul: this node's LiteFS API URL; default http://<nodeId>:<httpAddr port>. */
  readonly advertiseUrl: string | null;
  readonly proxy: ProxySettings | null;
  /** Go duration, default "1h". */
  readonly retention: string;
  /**
   * Go duration, default "30s": how long opening the database on a replica waits for the file to
   * arrive (a new cluster's replica has none until the primary's first write replicates). "0": no wait.
   */
  readonly databaseWaitTimeout: string;
  readonly raft: RaftSettings | null;
  /** consul mode only (null otherwise). */
  readonly consul: ConsulSettings | null;
  readonly exec: string | null;
}

interface ProxySettingsInput {
  addr?: string;
  target?: string;
  db?: string;
  passthrough?: readonly string[];
  maxLag?: string | null;
}

interface RaftSettingsInput {
  selfAddr?: string;
  peers?: readonly string[];
  leasePort?: number;
  forwardPort?: number | null;
  secret?: string | null;
  leaseToken?: string | null;
  dataDir?: string;
  bootstrap?: boolean;
}

interface ConsulSettingsInput {
  url?: string | null;
  key?: string;
  ttl?: string;
  lockDelay?: string;
  candidate?: boolean | string;
  promote?: boolean;
}

/**
 * What callers pass to loadSettings(). Every key is optional: a missing (undefined) key falls back
 * to its LITEFS_* variable, then to its default. A present key, even null, wins over the env.
 */
export interface LiteFSSettingsInput {
  enabled?: boolean;
  devDatabasePath?: string;
  mountPath?: string;
  dataPath?: string;
  databaseName?: string;
  nodeId?: string | null;
  leaderElection?: LeaderElection;
  primaryHostname?: string | null;
  primaryUrl?: string | null;
  httpAddr?: string;
  advertiseUrl?: string | null;
  proxy?: ProxySettingsInput | null;
  retention?: string;
  databaseWaitTimeout?: string;
  raft?: RaftSettingsInput | null;
  consul?: ConsulSettingsInput | null;
  exec?: string | null;
}
