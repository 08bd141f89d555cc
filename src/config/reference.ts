// The one table of settings: name, environment variable, default, meaning. The env reader parses
// by it, error messages look env names up in it, and the CLI and README print it, so the three
// can never disagree.

/** How an environment variable's text becomes a setting value. */
export type EnvKind = "boolean" | "string" | "list" | "port" | "boolean-or-comparison";

export interface SettingReference {
  /** Dotted setting name, as in error messages (e.g. "raft.peers"). */
  readonly setting: string;
  readonly env: string;
  /** The default, in words (settings without one say so). */
  readonly default: string;
  readonly description: string;
  readonly kind: EnvKind;
  /** Older variable names still read (after `env`), e.g. LITEFS_LEASE_TOKEN. */
  readonly aliases?: readonly string[];
}

const rows: SettingReference[] = [
  {
    setting: "enabled",
    env: "LITEFS_ENABLED",
    default: "true when any other LiteFS setting is set; else false (dev mode), an error under NODE_ENV=production",
    description:
      "false = dev mode: a plain local SQLite file, this node always writable, no LiteFS (true/false, 1/0, yes/no)",
    kind: "boolean",
  },
  {
    setting: "devDatabasePath",
    env: "LITEFS_DEV_DATABASE",
    default: "./.litefs-dev/<databaseName>",
    description: "dev mode only: the local SQLite file (resolved against the working directory)",
    kind: "string",
  },
  {
    setting: "mountPath",
    env: "LITEFS_MOUNT_PATH",
    default: "/litefs",
    description: "absolute path of the LiteFS FUSE mount (litefs.yml fuse.dir)",
    kind: "string",
  },
  {
    setting: "dataPath",
    env: "LITEFS_DATA_PATH",
    default: "/var/lib/litefs",
    description: "absolute path of LiteFS's internal data, outside mountPath (litefs.yml data.dir)",
    kind: "string",
  },
  {
    setting: "databaseName",
    env: "LITEFS_DATABASE",
    default: "db.sqlite3",
    description: "the database's file name inside mountPath (a plain name, no directories)",
    kind: "string",
  },
  {
    setting: "nodeId",
    env: "LITEFS_NODE_ID",
    default: "none; required when enabled (consul: this machine's hostname)",
    description:
      "this node's name, unique in the cluster, no whitespace or $ (LiteFS lease.hostname in raft and consul mode)",
    kind: "string",
  },
  {
    setting: "leaderElection",
    env: "LITEFS_LEADER_ELECTION",
    default: "static",
    description:
      "static (one fixed primary, no failover), raft (embedded Raft lease service, automatic failover) or consul (LiteFS's own lease in your Consul, e.g. Fly.io's)",
    kind: "string",
  },
  {
    setting: "primaryHostname",
    env: "LITEFS_PRIMARY_HOSTNAME",
    default: "none; required for static",
    description: "static: nodeId of the node that is primary for good",
    kind: "string",
  },
  {
    setting: "primaryUrl",
    env: "LITEFS_PRIMARY_URL",
    default: "http://<primaryHostname>:<httpAddr port>",
    description: "static: the primary's LiteFS API URL (lease.advertise-url on every node)",
    kind: "string",
  },
  {
    setting: "httpAddr",
    env: "LITEFS_HTTP_ADDR",
    default: ":20202",
    description: "LiteFS HTTP API listen address, [host]:port",
    kind: "string",
  },
  {
    setting: "advertiseUrl",
    env: "LITEFS_ADVERTISE_URL",
    default: "http://<nodeId>:<httpAddr port>",
    description:
      "raft and consul: this node's LiteFS API URL as other nodes reach it (consul: may hold ${VAR} references LiteFS expands)",
    kind: "string",
  },
  {
    setting: "proxy.addr",
    env: "LITEFS_PROXY_ADDR",
    default: ":8080 (when the proxy is used)",
    description:
      "LiteFS's own HTTP proxy (litefs.yml proxy:, not `litefs-node forward`): its listen address, [host]:port; setting any proxy value turns it on",
    kind: "string",
  },
  {
    setting: "proxy.target",
    env: "LITEFS_PROXY_TARGET",
    default: "none; required when the proxy is used",
    description: "LiteFS's proxy: the app it forwards to, host:port (e.g. localhost:3000)",
    kind: "string",
  },
  {
    setting: "proxy.db",
    env: "LITEFS_PROXY_DB",
    default: "<databaseName>",
    description: "LiteFS's proxy: database whose TXID it tracks for read-your-writes",
    kind: "string",
  },
  {
    setting: "proxy.passthrough",
    env: "LITEFS_PROXY_PASSTHROUGH",
    default: "none",
    description: "LiteFS's proxy: comma list of path patterns it passes straight through (e.g. /static/*)",
    kind: "list",
  },
  {
    setting: "proxy.maxLag",
    env: "LITEFS_PROXY_MAX_LAG",
    default: "none",
    description: "LiteFS's proxy: Go duration; its /litefs/health answers 503 when replication lag exceeds it",
    kind: "string",
  },
  {
    setting: "retention",
    env: "LITEFS_RETENTION",
    default: "1h",
    description: "Go duration LiteFS keeps LTX files (litefs.yml data.retention)",
    kind: "string",
  },
  {
    setting: "databaseWaitTimeout",
    env: "LITEFS_DATABASE_WAIT_TIMEOUT",
    default: "30s",
    description:
      "Go duration: on a replica, how long opening the database waits for the file to replicate (a new cluster's replicas have none until the primary's first write); 0 = fail at once",
    kind: "string",
  },
  {
    setting: "raft.selfAddr",
    env: "LITEFS_RAFT_SELF_ADDR",
    default: "none; required for raft",
    description: "host:port of this node's Raft listener",
    kind: "string",
  },
  {
    setting: "raft.peers",
    env: "LITEFS_RAFT_PEERS",
    default: "none; required for raft",
    description: "comma list of the other members' host:port (not this node's own)",
    kind: "list",
  },
  {
    setting: "raft.leasePort",
    env: "LITEFS_RAFT_LEASE_PORT",
    default: "8500",
    description: "port of the lease service on 127.0.0.1 (LiteFS lease.consul.url)",
    kind: "port",
  },
  {
    setting: "raft.forwardPort",
    env: "LITEFS_RAFT_FORWARD_PORT",
    default: "none (a free port)",
    description:
      "port on raft.selfAddr's host where the Raft leader takes lease requests forwarded by followers (TLS-PSK); set it to firewall it",
    kind: "port",
  },
  {
    setting: "raft.secret",
    env: "LITEFS_RAFT_SECRET",
    default: "none",
    description:
      "required for raft: shared secret (at least 16 characters, the same on every member) from which the TLS pre-shared key of Raft traffic and lease forwarding is derived",
    kind: "string",
  },
  {
    setting: "raft.leaseToken",
    env: "LITEFS_RAFT_LEASE_TOKEN",
    default: "made per node (<raft.dataDir>/lease-token)",
    description:
      "X-Consul-Token LiteFS must send to the lease service (16+ characters of A-Z a-z 0-9 . _ ~ -); unset: 256 random bits made at first start and kept 0600. Alias: LITEFS_LEASE_TOKEN",
    kind: "string",
    aliases: ["LITEFS_LEASE_TOKEN"],
  },
  {
    setting: "raft.dataDir",
    env: "LITEFS_RAFT_DATA_DIR",
    default: "<dataPath>/raft",
    description: "absolute path where Raft keeps its log and snapshots",
    kind: "string",
  },
  {
    setting: "raft.bootstrap",
    env: "LITEFS_RAFT_BOOTSTRAP",
    default: "false",
    description:
      "true only for the very first start of a new cluster: accept empty Raft storage (afterwards a member with lost storage is refused)",
    kind: "boolean",
  },
  {
    setting: "consul.url",
    env: "LITEFS_CONSUL_URL",
    default: "none; required to render a consul lease",
    description:
      "consul: Consul's HTTP API URL (token as the URL password), or a reference LiteFS expands such as ${FLY_CONSUL_URL}",
    kind: "string",
  },
  {
    setting: "consul.key",
    env: "LITEFS_CONSUL_KEY",
    default: "litefs/primary",
    description: "consul: the KV key of the lease (may hold ${VAR} references, e.g. litefs/${FLY_APP_NAME})",
    kind: "string",
  },
  {
    setting: "consul.ttl",
    env: "LITEFS_CONSUL_TTL",
    default: "10s",
    description: "consul: Go duration, session TTL (10s to 24h)",
    kind: "string",
  },
  {
    setting: "consul.lockDelay",
    env: "LITEFS_CONSUL_LOCK_DELAY",
    default: "1s",
    description:
      "consul: Go duration, how long Consul blocks re-acquiring the lease after its holder's session ends (at most 60s)",
    kind: "string",
  },
  {
    setting: "consul.candidate",
    env: "LITEFS_CONSUL_CANDIDATE",
    default: "true",
    description:
      "consul: may this node become primary: true/false, or a comparison LiteFS evaluates such as ${FLY_REGION == PRIMARY_REGION}",
    kind: "boolean-or-comparison",
  },
  {
    setting: "consul.promote",
    env: "LITEFS_CONSUL_PROMOTE",
    default: "false",
    description:
      "consul: a starting candidate asks the primary for a LiteFS handoff (lease.promote; see the Fly.io section before turning it on)",
    kind: "boolean",
  },
  {
    setting: "exec",
    env: "LITEFS_EXEC",
    default: "none",
    description: "command LiteFS starts once it is primary or connected to one (LiteFS expands ${VAR} in it)",
    kind: "string",
  },
];

/** Every setting with its environment variable, default and meaning, in display order. */
export const SETTINGS_REFERENCE: readonly SettingReference[] = Object.freeze(rows.map((row) => Object.freeze(row)));

const envBySetting = new Map(rows.map((row) => [row.setting, row.env]));

/** The environment variable that feeds `setting` (dotted name), or null when none does. */
export function envNameOf(setting: string): string | null {
  return envBySetting.get(setting) ?? null;
}
