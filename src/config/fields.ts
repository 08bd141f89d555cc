// Layer 1 of the settings schema: each setting on its own (type and format), with messages a
// person can act on. Also the defaults and the small helpers the other layers share.

import * as z from "zod";
import { formatHostPort, httpUrlProblem, parseHostPort, parseListenAddr, portProblem } from "./addresses.js";
import { goDurationProblem, goDurationToMs } from "./durations.js";
import { isEnvComparison, withReferencesReplaced } from "./env-references.js";
import { absolutePathProblem, fileNameProblem } from "./paths.js";
import { LEADER_ELECTIONS } from "./types.js";

export const DEFAULTS = Object.freeze({
  enabled: true,
  mountPath: "/litefs",
  dataPath: "/var/lib/litefs",
  databaseName: "db.sqlite3",
  leaderElection: "static",
  httpAddr: ":20202",
  retention: "1h",
  databaseWaitTimeout: "30s",
  proxyAddr: ":8080",
  leasePort: 8500,
  devDirectory: "./.litefs-dev",
  raftDirName: "raft",
  // LiteFS's own defaults for its consul lease.
  consulKey: "litefs/primary",
  consulTtl: "10s",
  consulLockDelay: "1s",
  consulCandidate: true,
  consulPromote: false,
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
  // LiteFS expands "$" in litefs.yml but litefs-node reads this name itself: the two would disagree.
  if (value.includes("$")) {
    return `must not contain "$": litefs-node uses this name itself, so it cannot be a \${VAR} reference (in consul mode leave nodeId unset to use this machine's hostname), got ${JSON.stringify(value)}`;
  }
  return null;
};

const nonBlankProblem =
  (example: string) =>
  (value: string): string | null =>
    value.trim() === "" || value.includes("\0")
      ? `must be a non-empty string such as ${JSON.stringify(example)}, got ${JSON.stringify(value)}`
      : null;

// The HMAC key of Raft peers: short secrets are guessable offline from one captured frame.
const MIN_RAFT_SECRET_LENGTH = 16;
const secretProblem = (value: string): string | null => {
  if (value.trim() === "" || value.includes("\0"))
    return `must be a non-empty shared secret, got ${JSON.stringify(value)}`;
  return value.length < MIN_RAFT_SECRET_LENGTH
    ? `must be at least ${MIN_RAFT_SECRET_LENGTH} characters (e.g. the output of \`openssl rand -hex 32\`), got ${value.length}`
    : null;
};

// The lease service's X-Consul-Token. It goes into lease.consul.url as the password, so only
// characters a URL carries verbatim (and no `$`: LiteFS expands ${VAR} in litefs.yml). The value
// itself never appears in a message.
const MIN_LEASE_TOKEN_LENGTH = 16;
const MAX_LEASE_TOKEN_LENGTH = 256;
export const leaseTokenProblem = (value: string): string | null => {
  if (value.length < MIN_LEASE_TOKEN_LENGTH || value.length > MAX_LEASE_TOKEN_LENGTH) {
    return `must be ${MIN_LEASE_TOKEN_LENGTH} to ${MAX_LEASE_TOKEN_LENGTH} characters (e.g. the output of \`openssl rand -hex 32\`), got ${value.length}`;
  }
  return /^[A-Za-z0-9._~-]+$/.test(value)
    ? null
    : "may hold only the letters A-Z and a-z, the digits 0-9 and . _ ~ - (it becomes the password in lease.consul.url); e.g. the output of `openssl rand -hex 32`";
};

const leaderElectionProblem = (value: string): string | null =>
  (LEADER_ELECTIONS as readonly string[]).includes(value)
    ? null
    : `must be one of ${LEADER_ELECTIONS.slice(0, -1)
        .map((m) => JSON.stringify(m))
        .join(", ")} or ${JSON.stringify(LEADER_ELECTIONS.at(-1))}, got ${JSON.stringify(value)}`;

const listenAddrProblem = (value: string): string | null => {
  const parsed = parseListenAddr(value);
  return parsed.ok ? null : parsed.message;
};

const hostPortProblem =
  (example: string) =>
  (value: string): string | null => {
    const parsed = parseHostPort(value, example);
    return parsed.ok ? null : parsed.message;
  };

export const EXAMPLE_API_URL = "http://node-a:20202";

/** An http(s) URL that may hold `${VAR}` references LiteFS expands (each judged as a plain word). */
const urlWithReferencesProblem =
  (example: string) =>
  (value: string): string | null => {
    if (/^\$\{[A-Za-z_][A-Za-z0-9_]*\}$/.test(value)) return null; // the whole URL from the environment
    const replaced = withReferencesReplaced(value, "ref");
    if (!replaced.ok) return replaced.message;
    // Judged with each reference as a plain word; the message quotes the value as written.
    return httpUrlProblem(replaced.value, example) === null ? null : httpUrlProblem(value, example);
  };

const EXAMPLE_CONSUL_URL = "http://127.0.0.1:8500";

const durationWithin =
  (minMs: number, maxMs: number, range: string) =>
  (value: string): string | null => {
    const problem = goDurationProblem(value);
    if (problem !== null) return problem;
    const ms = goDurationToMs(value) as number;
    return ms < minMs || ms > maxMs
      ? `must be from ${range} (Consul refuses other values), got ${JSON.stringify(value)}`
      : null;
  };

const consulKeyProblem = (value: string): string | null => {
  if (value.trim() === "" || /[\s\u0000-\u001f\u007f]/.test(value) || value.startsWith("/")) {
    return `must be a Consul KV key without spaces that does not start with "/", such as "litefs/primary", got ${JSON.stringify(value)}`;
  }
  const replaced = withReferencesReplaced(value, "ref");
  return replaced.ok ? null : replaced.message;
};

/** lease.candidate: a boolean, or a comparison LiteFS evaluates to one when it reads the file. */
const candidate = z.unknown().transform((value, ctx): boolean | string => {
  if (typeof value === "boolean" || (typeof value === "string" && isEnvComparison(value))) return value;
  ctx.addIssue({
    code: "custom",
    message: `must be true, false or a LiteFS comparison such as "\${FLY_REGION == PRIMARY_REGION}", got ${JSON.stringify(value)}`,
    input: value,
  });
  return z.NEVER;
});

export const consulFields = {
  url: text(urlWithReferencesProblem(EXAMPLE_CONSUL_URL)).nullable(),
  key: text(consulKeyProblem),
  ttl: text(durationWithin(10_000, 86_400_000, `"10s" to "24h"`)),
  lockDelay: text(durationWithin(0, 60_000, `"0s" to "60s"`)),
  candidate,
  promote: z.boolean(),
};

export const proxyFields = {
  addr: text((v) => {
    const parsed = parseListenAddr(v, `":8080"`);
    return parsed.ok ? null : parsed.message;
  }),
  target: text(hostPortProblem(`"localhost:3000"`)),
  db: text(fileNameProblem),
  passthrough: z.array(text(nonBlankProblem("/static/*"))),
  maxLag: text(goDurationProblem).nullable(),
};

export const raftFields = {
  selfAddr: text(hostPortProblem(`"node-a:4001"`)),
  peers: z.array(text(hostPortProblem(`"node-b:4001"`))),
  leasePort: z.number().superRefine((value, ctx) => {
    const message = portProblem(value);
    if (message !== null) ctx.addIssue({ code: "custom", message, input: value });
  }),
  forwardPort: z
    .number()
    .superRefine((value, ctx) => {
      const message = portProblem(value);
      if (message !== null) ctx.addIssue({ code: "custom", message, input: value });
    })
    .nullable(),
  secret: text(secretProblem).nullable(),
  leaseToken: text(leaseTokenProblem).nullable(),
  dataDir: text(absolutePathProblem),
  bootstrap: z.boolean(),
};

export const fields = {
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
  // Only LiteFS reads it, so it may hold ${VAR} references (Fly.io: http://${HOSTNAME}.vm.${FLY_APP_NAME}.internal:20202).
  advertiseUrl: text(urlWithReferencesProblem(EXAMPLE_API_URL)).nullable(),
  proxy: z.strictObject(optionalAll(proxyFields)).nullable(),
  retention: text(goDurationProblem),
  databaseWaitTimeout: text(goDurationProblem),
  raft: z.strictObject(optionalAll(raftFields)).nullable(),
  consul: z.strictObject(optionalAll(consulFields)).nullable(),
  exec: text(nonBlankProblem("node server.js")).nullable(),
};

export function optionalAll<T extends Record<string, z.ZodType>>(shape: T): { [K in keyof T]: z.ZodOptional<T[K]> } {
  const out: Record<string, z.ZodType> = {};
  for (const [key, schema] of Object.entries(shape)) out[key] = schema.optional();
  return out as { [K in keyof T]: z.ZodOptional<T[K]> };
}

/** Names of the settings an input object may hold, for "unknown key" messages. */
export const SETTING_KEYS = Object.freeze({
  root: Object.freeze(Object.keys(fields)),
  proxy: Object.freeze(Object.keys(proxyFields)),
  raft: Object.freeze(Object.keys(raftFields)),
  consul: Object.freeze(Object.keys(consulFields)),
});

export type Raw = Record<string, unknown>;

export function isRecord(value: unknown): value is Raw {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** The value of `key` when it is present and passed its field schema, else undefined. */
export function validValue<S extends Record<string, z.ZodType>, K extends keyof S & string>(
  shape: S,
  raw: Raw | undefined,
  key: K,
): z.output<S[K]> | undefined {
  if (raw === undefined || raw[key] === undefined) return undefined;
  const parsed = shape[key]!.safeParse(raw[key]);
  return parsed.success ? (parsed.data as z.output<S[K]>) : undefined;
}

/** http://<host>:<httpAddr port>, the default API URL of a named node. */
export function defaultApiUrl(host: string, httpAddr: string): string {
  const parsed = parseListenAddr(httpAddr);
  const port = parsed.ok ? parsed.value.port : 20202;
  return `http://${formatHostPort(host, port)}`;
}
