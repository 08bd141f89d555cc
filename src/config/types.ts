// The shapes of litefs-node settings: what callers pass in (all optional) and what
// loadSettings() hands back (frozen, every default filled in). Shapes only; rules live in schema.ts.

export type LeaderElection = "static" | "raft";

export const LEADER_ELECTIONS: readonly LeaderElection[] = Object.freeze(["static", "raft"]);

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
  /** HMAC key for peer authentication (at least 16 characters); required when enabled, null only in dev mode. */
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

export interface LiteFSSettings {
  /** false = dev mode: a plain local SQLite file, this node always writable, no LiteFS. */
  readonly enabled: boolean;
  /** Absolute (resolved against cwd); default ./.litefs-dev/<databaseName>. */
  readonly devDatabasePath: string;
  readonly mountPath: string;
  readonly dataPath: string;
  readonly databaseName: string;
  /** This node's name (LiteFS lease.hostname); null only in dev mode. */
  readonly nodeId: string | null;
  readonly leaderElection: LeaderElection;
  /** static: the node that is primary for good. */
  readonly primaryHostname: string | null;
  /** static: the primary's LiteFS API URL; default http://<primaryHostname>:<httpAddr port>. */
  readonly primaryUrl: string | null;
  /** LiteFS HTTP API listen address, default ":20202". */
  readonly httpAddr: string;
  /** raft: this node's LiteFS API URL; default http://<nodeId>:<httpAddr port>. */
  readonly advertiseUrl: string | null;
  readonly proxy: ProxySettings | null;
  /** Go duration, default "1h". */
  readonly retention: string;
  readonly raft: RaftSettings | null;
  readonly exec: string | null;
}

export interface ProxySettingsInput {
  addr?: string;
  target?: string;
  db?: string;
  passthrough?: readonly string[];
  maxLag?: string | null;
}

export interface RaftSettingsInput {
  selfAddr?: string;
  peers?: readonly string[];
  leasePort?: number;
  secret?: string | null;
  leaseToken?: string | null;
  dataDir?: string;
  bootstrap?: boolean;
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
  raft?: RaftSettingsInput | null;
  exec?: string | null;
}
