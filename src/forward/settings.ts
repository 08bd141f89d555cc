// Settings of the write-forwarding proxy: one zod schema per setting, read from an object and
// LITEFS_FORWARD_* env. Kept apart from src/config because only `litefs-node forward` and
// createForwardingProxy() need them; every error names the setting and its env variable.
import { z } from "zod";
import { isHostName, parseAddressBlock, parseListenAddr } from "../config/addresses.js";
import { durationUnitHint, goDurationToMs } from "../config/durations.js";
import { ConfigError, type ConfigIssue } from "../errors.js";

export type RywTimeoutMode = "504" | "forward";

export interface ForwardSettings {
  /** Where the proxy listens: "host:port", ":port" (all interfaces) or "port". */
  readonly listen: string;
  /** The local app (or LiteFS's proxy in front of it) that reads and primary-side writes go to. */
  readonly upstream: string;
  /** Template of the primary's app address, `{host}` replaced by the primary hostname. */
  readonly target: string | null;
  /** Explicit primary hostname -> app address map; when set, only its keys are reachable (`target` is not used). */
  readonly hosts: Readonly<Record<string, string>>;
  /** Largest request body buffered for forwarding/replay, in bytes (default 10 MiB). */
  readonly bodyLimitBytes: number;
  /** Path prefixes forwarded to the primary whatever the method (e.g. a GET that writes). */
  readonly alwaysForward: readonly string[];
  /** How long a read carrying a TXID waits for this replica to catch up (default 5000 ms). */
  readonly rywTimeoutMs: number;
  /** What happens when it never catches up: 504 (like LiteFS's proxy) or forward the read to the primary. */
  readonly rywTimeoutMode: RywTimeoutMode;
  /** Database whose TXID read-your-writes tracks; null = the LiteFS settings' databaseName. */
  readonly db: string | null;
  /** The health endpoint answers 503 on a replica lagging more than this (default 10 s). */
  readonly healthMaxLagMs: number;
  /** Requests handled at once; past it: 503 + Retry-After (default 1024). */
  readonly maxRequests: number;
  /** Request body bytes buffered at once over all requests; past it: 503 + Retry-After (default 64 MiB). */
  readonly bodyBudgetBytes: number;
  /** Reads waiting for a TXID at once; past it: 503 + Retry-After (default 256). */
  readonly maxTxidWaits: number;
  /** Upgraded connections (WebSockets) open at once; past it: 503 + Retry-After (default 1024). */
  readonly maxUpgrades: number;
  /** Peers (IP addresses or CIDR blocks) whose X-Forwarded-* headers are kept; from anyone else they are overwritten. */
  readonly trustedProxies: readonly string[];
}

/** Input accepted by loadForwardSettings; durations and sizes may be strings ("5s", "10MiB"). */
export interface ForwardSettingsInput {
  listen?: string;
  upstream?: string;
  target?: string | null;
  hosts?: Readonly<Record<string, string>> | string;
  bodyLimit?: number | string;
  alwaysForward?: readonly string[] | string;
  rywTimeout?: number | string;
  rywTimeoutMode?: RywTimeoutMode;
  db?: string | null;
  healthMaxLag?: number | string;
  maxRequests?: number | string;
  bodyBudget?: number | string;
  maxTxidWaits?: number | string;
  maxUpgrades?: number | string;
  trustedProxies?: readonly string[] | string;
}

export const DEFAULT_BODY_LIMIT_BYTES = 10 * 1024 * 1024;
export const DEFAULT_RYW_TIMEOUT_MS = 5000;
export const DEFAULT_HEALTH_MAX_LAG_MS = 10_000;
export const DEFAULT_FORWARD_LISTEN = ":8079";
const DEFAULT_MAX_REQUESTS = 1024;
const DEFAULT_BODY_BUDGET_BYTES = 64 * 1024 * 1024;
const DEFAULT_MAX_TXID_WAITS = 256;
const DEFAULT_MAX_UPGRADES = 1024;

/** Setting name -> environment variable. */
export const FORWARD_ENV = {
  listen: "LITEFS_FORWARD_LISTEN",
  upstream: "LITEFS_FORWARD_UPSTREAM",
  target: "LITEFS_FORWARD_TARGET",
  hosts: "LITEFS_FORWARD_HOSTS",
  bodyLimit: "LITEFS_FORWARD_BODY_LIMIT",
  alwaysForward: "LITEFS_FORWARD_ALWAYS",
  rywTimeout: "LITEFS_FORWARD_RYW_TIMEOUT",
  rywTimeoutMode: "LITEFS_FORWARD_RYW_MODE",
  db: "LITEFS_FORWARD_DB",
  healthMaxLag: "LITEFS_FORWARD_HEALTH_MAX_LAG",
  maxRequests: "LITEFS_FORWARD_MAX_REQUESTS",
  bodyBudget: "LITEFS_FORWARD_BODY_BUDGET",
  maxTxidWaits: "LITEFS_FORWARD_MAX_TXID_WAITS",
  maxUpgrades: "LITEFS_FORWARD_MAX_UPGRADES",
  trustedProxies: "LITEFS_FORWARD_TRUSTED_PROXIES",
} as const satisfies Record<keyof ForwardSettingsInput, string>;

// ---- value parsers (exported: the CLI and tests use them) ----

const HTTP_URL = z
  .string()
  .trim()
  .min(1, "must not be empty")
  .refine((s) => {
    try {
      const u = new URL(s);
      return (u.protocol === "http:" || u.protocol === "https:") && u.hostname !== "";
    } catch {
      return false;
    }
  }, "must be an http:// or https:// URL such as http://127.0.0.1:8081");

const LISTEN = z
  .string()
  .trim()
  .refine((s) => parseListenAddressOrNull(s) !== null, 'must be "host:port", ":port" or a port number (1-65535)');

const TARGET_TEMPLATE = z
  .string()
  .trim()
  .refine((s) => s.includes("{host}"), 'must contain "{host}", e.g. http://{host}:8080')
  .refine(
    (s) => HTTP_URL.safeParse(s.replaceAll("{host}", "node-a")).success,
    "must be an http(s) URL once {host} is replaced, e.g. http://{host}:8080",
  );

const HOSTS_MAP = z.union([z.string(), z.record(z.string(), z.string())]).transform((value, ctx) => {
  const entries: [string, string][] = [];
  if (typeof value === "string") {
    for (const part of value
      .split(",")
      .map((p) => p.trim())
      .filter((p) => p !== "")) {
      const eq = part.indexOf("=");
      if (eq <= 0) {
        ctx.addIssue({ code: "custom", message: `"${part}" is not "hostname=url" (e.g. node-a=http://10.0.0.1:8080)` });
        return z.NEVER;
      }
      entries.push([part.slice(0, eq).trim(), part.slice(eq + 1).trim()]);
    }
  } else {
    entries.push(...Object.entries(value));
  }
  const out: Record<string, string> = {};
  for (const [host, url] of entries) {
    if (!HTTP_URL.safeParse(url).success) {
      ctx.addIssue({ code: "custom", message: `address of "${host}" ("${url}") must be an http:// or https:// URL` });
      return z.NEVER;
    }
    out[host] = url.replace(/\/+$/, "");
  }
  return Object.freeze(out);
});

const PATH_LIST = z
  .union([z.string(), z.array(z.string())])
  .transform((value) =>
    (typeof value === "string" ? value.split(",") : value).map((p) => p.trim()).filter((p) => p !== ""),
  )
  .refine(
    (paths) => paths.every((p) => p.startsWith("/")),
    'every path must start with "/" (comma-separated, e.g. /jobs/run,/cron)',
  );

const SIZE_UNITS: Record<string, number> = {
  "": 1,
  b: 1,
  k: 1024,
  kb: 1000,
  kib: 1024,
  m: 1024 ** 2,
  mb: 1000 ** 2,
  mib: 1024 ** 2,
  g: 1024 ** 3,
  gb: 1000 ** 3,
  gib: 1024 ** 3,
};

/** "10MiB", "512k", "1048576" -> bytes; null when not a size. */
export function parseByteSize(value: number | string): number | null {
  if (typeof value === "number") return Number.isSafeInteger(value) && value > 0 ? value : null;
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$/.exec(value);
  if (!m) return null;
  const unit = SIZE_UNITS[(m[2] ?? "").toLowerCase()];
  if (unit === undefined) return null;
  const bytes = Math.floor(Number(m[1]) * unit);
  return Number.isSafeInteger(bytes) && bytes > 0 ? bytes : null;
}

/** A Go duration ("5s", "1m30s", "250ms": config/durations.ts) or a plain number of milliseconds; null otherwise. */
export function parseDurationMs(value: number | string): number | null {
  if (typeof value === "number") return Number.isFinite(value) && value >= 0 ? value : null;
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text);
  return goDurationToMs(text);
}

const BYTE_SIZE = z.union([z.number(), z.string()]).transform((v, ctx) => {
  const bytes = parseByteSize(v);
  if (bytes === null) {
    ctx.addIssue({
      code: "custom",
      message: `"${v}" is not a positive size (bytes, or with a unit: 512KiB, 10MiB, 1GiB)`,
    });
    return z.NEVER;
  }
  return bytes;
});

const DURATION = z.union([z.number(), z.string()]).transform((v, ctx) => {
  const ms = parseDurationMs(v);
  if (ms === null) {
    ctx.addIssue({
      code: "custom",
      message: `"${v}" is not a duration (milliseconds, or Go style: 500ms, 5s, 1m)${durationUnitHint(String(v))}`,
    });
    return z.NEVER;
  }
  return ms;
});

const COUNT = z.union([z.number(), z.string()]).transform((v, ctx) => {
  const n = typeof v === "number" ? v : /^\s*\d+\s*$/.test(v) ? Number(v) : NaN;
  if (!Number.isSafeInteger(n) || n < 1) {
    ctx.addIssue({ code: "custom", message: `"${v}" is not a whole number of at least 1` });
    return z.NEVER;
  }
  return n;
});

const ADDRESS_BLOCKS = z.union([z.string(), z.array(z.string())]).transform((value, ctx) => {
  const entries = (typeof value === "string" ? value.split(",") : value).map((p) => p.trim()).filter((p) => p !== "");
  for (const entry of entries) {
    const parsed = parseAddressBlock(entry);
    if (!parsed.ok) {
      ctx.addIssue({ code: "custom", message: `${parsed.message} (comma-separated, e.g. 10.0.0.0/8,127.0.0.1)` });
      return z.NEVER;
    }
  }
  return entries;
});

const FIELDS = {
  listen: LISTEN,
  upstream: HTTP_URL.transform((s) => s.replace(/\/+$/, "")),
  target: TARGET_TEMPLATE.nullable(),
  hosts: HOSTS_MAP,
  bodyLimit: BYTE_SIZE,
  alwaysForward: PATH_LIST,
  rywTimeout: DURATION,
  rywTimeoutMode: z.enum(["504", "forward"], { error: 'must be "504" or "forward"' }),
  db: z.string().trim().min(1, "must not be empty").nullable(),
  healthMaxLag: DURATION,
  maxRequests: COUNT,
  bodyBudget: BYTE_SIZE,
  maxTxidWaits: COUNT,
  maxUpgrades: COUNT,
  trustedProxies: ADDRESS_BLOCKS,
} as const;

/**
 * forward.listen into what net.Server.listen takes: a listen address by config/addresses.ts's rules
 * ("host:port", ":port", "[::1]:port"), plus the bare port ("8079") and port 0 this setting has always
 * taken. Null when invalid.
 */
function parseListenAddressOrNull(addr: string): { host: string | undefined; port: number } | null {
  const text = addr.trim();
  const parsed = parseListenAddr(/^\d+$/.test(text) ? `:${text}` : text, `":8079"`, { anyPort: true });
  if (!parsed.ok) return null;
  return { host: parsed.value.host === "" ? undefined : parsed.value.host, port: parsed.value.port };
}

/** Like parseListenAddressOrNull, throwing ConfigError naming the listen setting. */
export function parseListenAddress(addr: string): { host: string | undefined; port: number } {
  const parsed = parseListenAddressOrNull(addr);
  if (!parsed)
    throw new ConfigError([
      {
        setting: "forward.listen",
        env: FORWARD_ENV.listen,
        message: `"${addr}" is not "host:port", ":port" or a port`,
      },
    ]);
  return parsed;
}

type RawKey = keyof typeof FIELDS;

function pick(input: ForwardSettingsInput, env: NodeJS.ProcessEnv, key: RawKey): unknown {
  const fromInput = input[key];
  if (fromInput !== undefined) return fromInput;
  const fromEnv = env[FORWARD_ENV[key]];
  return fromEnv === undefined || fromEnv.trim() === "" ? undefined : fromEnv;
}

/**
 * Reads the forwarding settings: explicit input wins over LITEFS_FORWARD_* env, then defaults.
 * Throws ConfigError listing every bad setting at once.
 */
export function loadForwardSettings(
  input: ForwardSettingsInput = {},
  env: NodeJS.ProcessEnv = process.env,
): ForwardSettings {
  const issues: ConfigIssue[] = [];
  const values: Partial<Record<RawKey, unknown>> = {};
  for (const key of Object.keys(FIELDS) as RawKey[]) {
    const raw = pick(input, env, key);
    if (raw === undefined) continue;
    const result = FIELDS[key].safeParse(raw);
    if (result.success) values[key] = result.data;
    else
      issues.push({
        setting: `forward.${key}`,
        env: FORWARD_ENV[key],
        message: result.error.issues.map((i) => i.message).join("; "),
      });
  }
  if (values.upstream === undefined && !issues.some((i) => i.setting === "forward.upstream")) {
    issues.push({
      setting: "forward.upstream",
      env: FORWARD_ENV.upstream,
      message: "required: the local app's address, e.g. http://127.0.0.1:8081",
    });
  }
  const hosts = (values.hosts as Readonly<Record<string, string>> | undefined) ?? Object.freeze({});
  const target = (values.target as string | null | undefined) ?? null;
  const targetBroken = issues.some((i) => i.setting === "forward.target" || i.setting === "forward.hosts");
  if (!targetBroken && target === null && Object.keys(hosts).length === 0) {
    issues.push({
      setting: "forward.target",
      env: FORWARD_ENV.target,
      message: `required (or ${FORWARD_ENV.hosts}): where the primary's app listens, e.g. http://{host}:8080 or node-a=http://10.0.0.1:8080,node-b=http://10.0.0.2:8080`,
    });
  }
  const bodyLimitBytes = (values.bodyLimit as number | undefined) ?? DEFAULT_BODY_LIMIT_BYTES;
  const bodyBudgetBytes =
    (values.bodyBudget as number | undefined) ?? Math.max(DEFAULT_BODY_BUDGET_BYTES, bodyLimitBytes);
  if (bodyBudgetBytes < bodyLimitBytes) {
    issues.push({
      setting: "forward.bodyBudget",
      env: FORWARD_ENV.bodyBudget,
      message: `${bodyBudgetBytes} bytes is below ${FORWARD_ENV.bodyLimit} (${bodyLimitBytes} bytes): a body at the limit could never be accepted`,
    });
  }
  if (issues.length > 0) throw new ConfigError(issues);
  return Object.freeze({
    listen: (values.listen as string | undefined) ?? DEFAULT_FORWARD_LISTEN,
    upstream: values.upstream as string,
    target,
    hosts,
    bodyLimitBytes,
    alwaysForward: Object.freeze([...((values.alwaysForward as string[] | undefined) ?? [])]),
    rywTimeoutMs: (values.rywTimeout as number | undefined) ?? DEFAULT_RYW_TIMEOUT_MS,
    rywTimeoutMode: (values.rywTimeoutMode as RywTimeoutMode | undefined) ?? "504",
    db: (values.db as string | null | undefined) ?? null,
    healthMaxLagMs: (values.healthMaxLag as number | undefined) ?? DEFAULT_HEALTH_MAX_LAG_MS,
    maxRequests: (values.maxRequests as number | undefined) ?? DEFAULT_MAX_REQUESTS,
    bodyBudgetBytes,
    maxTxidWaits: (values.maxTxidWaits as number | undefined) ?? DEFAULT_MAX_TXID_WAITS,
    maxUpgrades: (values.maxUpgrades as number | undefined) ?? DEFAULT_MAX_UPGRADES,
    trustedProxies: Object.freeze([...((values.trustedProxies as string[] | undefined) ?? [])]),
  });
}

export type PrimaryAddress =
  | { readonly ok: true; readonly url: string }
  | {
      readonly ok: false;
      readonly problem: "not-a-node-name" | "not-in-map" | "unconfigured";
      readonly message: string;
    };

/**
 * Where to send a request for node `host` (the primary's hostname, or a Fly-Replay instance).
 * `host` ends up inside a URL, so it must be a bare node name: "127.0.0.1:18099/stolen?" would
 * otherwise send the client's cookies to another port and path. With a host map, only its keys
 * are reachable (the template is not consulted); without one, the template.
 */
export function primaryAddress(settings: Pick<ForwardSettings, "hosts" | "target">, host: string): PrimaryAddress {
  if (!isHostName(host)) {
    return {
      ok: false,
      problem: "not-a-node-name",
      message: `${JSON.stringify(host)} is not a node name (letters, digits, '.', '-' and '_' only)`,
    };
  }
  const hasMap = Object.keys(settings.hosts).length > 0;
  // Own keys only: a primary named "constructor" must not resolve to Object.prototype's.
  if (hasMap) {
    const url = Object.hasOwn(settings.hosts, host) ? settings.hosts[host] : undefined;
    return url === undefined
      ? { ok: false, problem: "not-in-map", message: `"${host}" is not in ${FORWARD_ENV.hosts}` }
      : { ok: true, url };
  }
  if (settings.target === null)
    return {
      ok: false,
      problem: "unconfigured",
      message: `no ${FORWARD_ENV.target} or ${FORWARD_ENV.hosts} is configured`,
    };
  const url = settings.target.replaceAll("{host}", host).replace(/\/+$/, "");
  // Hostname characters can still make no valid host ("a.1" parses as a broken IPv4 address).
  if (!URL.canParse(url))
    return {
      ok: false,
      problem: "not-a-node-name",
      message: `${JSON.stringify(host)} makes no valid URL host in ${FORWARD_ENV.target}`,
    };
  return { ok: true, url };
}

/** The primary's app address for a hostname, or null when it is not a node name or not configured (see primaryAddress). */
export function resolvePrimaryAddress(
  settings: Pick<ForwardSettings, "hosts" | "target">,
  host: string,
): string | null {
  const address = primaryAddress(settings, host);
  return address.ok ? address.url : null;
}
