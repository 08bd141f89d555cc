// Settings of the write-forwarding proxy: one zod schema per setting, read from an object and
// LITEFS_FORWARD_* env. Kept apart from src/config because only `litefs-node proxy` and
// createForwardingProxy() need them; every error names the setting and its env variable.
import { z } from "zod";
import { ConfigError, type ConfigIssue } from "../errors.js";

export type RywTimeoutMode = "504" | "forward";

export interface ForwardSettings {
  /** Where the proxy listens: "host:port", ":port" (all interfaces) or "port". */
  readonly listen: string;
  /** The local app (or LiteFS's proxy in front of it) that reads and primary-side writes go to. */
  readonly upstream: string;
  /** Template of the primary's app address, `{host}` replaced by the primary hostname. */
  readonly target: string | null;
  /** Explicit primary hostname -> app address map; wins over `target`. */
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
}

export const DEFAULT_BODY_LIMIT_BYTES = 10 * 1024 * 1024;
export const DEFAULT_RYW_TIMEOUT_MS = 5000;
export const DEFAULT_HEALTH_MAX_LAG_MS = 10_000;
export const DEFAULT_FORWARD_LISTEN = ":8079";

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
  .refine((s) => HTTP_URL.safeParse(s.replaceAll("{host}", "node-a")).success, "must be an http(s) URL once {host} is replaced, e.g. http://{host}:8080");

const HOSTS_MAP = z
  .union([z.string(), z.record(z.string(), z.string())])
  .transform((value, ctx) => {
    const entries: [string, string][] = [];
    if (typeof value === "string") {
      for (const part of value.split(",").map((p) => p.trim()).filter((p) => p !== "")) {
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
  .transform((value) => (typeof value === "string" ? value.split(",") : value).map((p) => p.trim()).filter((p) => p !== ""))
  .refine((paths) => paths.every((p) => p.startsWith("/")), 'every path must start with "/" (comma-separated, e.g. /jobs/run,/cron)');

const SIZE_UNITS: Record<string, number> = {
  "": 1, b: 1, k: 1024, kb: 1000, kib: 1024, m: 1024 ** 2, mb: 1000 ** 2, mib: 1024 ** 2, g: 1024 ** 3, gb: 1000 ** 3, gib: 1024 ** 3,
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

const DURATION_UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Go-style duration ("5s", "1m30s", "250ms") or a plain number of milliseconds; null otherwise. */
export function parseDurationMs(value: number | string): number | null {
  if (typeof value === "number") return Number.isFinite(value) && value >= 0 ? value : null;
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text);
  if (text === "" || !/^(\d+(\.\d+)?(ms|s|m|h))+$/.test(text)) return null;
  let total = 0;
  for (const m of text.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h)/g)) total += Number(m[1]) * (DURATION_UNITS[m[2] ?? ""] ?? NaN);
  return Number.isFinite(total) ? total : null;
}

const BYTE_SIZE = z.union([z.number(), z.string()]).transform((v, ctx) => {
  const bytes = parseByteSize(v);
  if (bytes === null) {
    ctx.addIssue({ code: "custom", message: `"${v}" is not a positive size (bytes, or with a unit: 512KiB, 10MiB, 1GiB)` });
    return z.NEVER;
  }
  return bytes;
});

const DURATION = z.union([z.number(), z.string()]).transform((v, ctx) => {
  const ms = parseDurationMs(v);
  if (ms === null) {
    ctx.addIssue({ code: "custom", message: `"${v}" is not a duration (milliseconds, or Go style: 500ms, 5s, 1m)` });
    return z.NEVER;
  }
  return ms;
});

const FIELDS = {
  listen: LISTEN,
  upstream: HTTP_URL.transform((s) => s.replace(/\/+$/, "")),
  target: TARGET_TEMPLATE.nullable(),
  hosts: HOSTS_MAP,
  bodyLimit: BYTE_SIZE,
  alwaysForward: PATH_LIST,
  rywTimeout: DURATION,
  rywTimeoutMode: z.enum(["504", "forward"], { message: 'must be "504" or "forward"' }),
  db: z.string().trim().min(1, "must not be empty").nullable(),
  healthMaxLag: DURATION,
} as const;

/** Parses "host:port" / ":port" / "port" into what net.Server.listen takes; null when invalid. */
export function parseListenAddressOrNull(addr: string): { host: string | undefined; port: number } | null {
  const text = addr.trim();
  const m = /^(?:(\[[^\]]+\]|[^:]*):)?(\d{1,5})$/.exec(text);
  if (!m) return null;
  const port = Number(m[2]);
  if (port < 0 || port > 65535) return null;
  const rawHost = m[1];
  const host = rawHost === undefined || rawHost === "" ? undefined : rawHost.replace(/^\[|\]$/g, "");
  return { host, port };
}

/** Like parseListenAddressOrNull, throwing ConfigError naming the listen setting. */
export function parseListenAddress(addr: string): { host: string | undefined; port: number } {
  const parsed = parseListenAddressOrNull(addr);
  if (!parsed) throw new ConfigError([{ setting: "forward.listen", env: FORWARD_ENV.listen, message: `"${addr}" is not "host:port", ":port" or a port` }]);
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
export function loadForwardSettings(input: ForwardSettingsInput = {}, env: NodeJS.ProcessEnv = process.env): ForwardSettings {
  const issues: ConfigIssue[] = [];
  const values: Partial<Record<RawKey, unknown>> = {};
  for (const key of Object.keys(FIELDS) as RawKey[]) {
    const raw = pick(input, env, key);
    if (raw === undefined) continue;
    const result = FIELDS[key].safeParse(raw);
    if (result.success) values[key] = result.data;
    else issues.push({ setting: `forward.${key}`, env: FORWARD_ENV[key], message: result.error.issues.map((i) => i.message).join("; ") });
  }
  if (values.upstream === undefined && !issues.some((i) => i.setting === "forward.upstream")) {
    issues.push({ setting: "forward.upstream", env: FORWARD_ENV.upstream, message: "required: the local app's address, e.g. http://127.0.0.1:8081" });
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
  if (issues.length > 0) throw new ConfigError(issues);
  return Object.freeze({
    listen: (values.listen as string | undefined) ?? DEFAULT_FORWARD_LISTEN,
    upstream: values.upstream as string,
    target,
    hosts,
    bodyLimitBytes: (values.bodyLimit as number | undefined) ?? DEFAULT_BODY_LIMIT_BYTES,
    alwaysForward: Object.freeze([...((values.alwaysForward as string[] | undefined) ?? [])]),
    rywTimeoutMs: (values.rywTimeout as number | undefined) ?? DEFAULT_RYW_TIMEOUT_MS,
    rywTimeoutMode: (values.rywTimeoutMode as RywTimeoutMode | undefined) ?? "504",
    db: (values.db as string | null | undefined) ?? null,
    healthMaxLagMs: (values.healthMaxLag as number | undefined) ?? DEFAULT_HEALTH_MAX_LAG_MS,
  });
}

/** The primary's app address for a hostname: the explicit map first, then the template; null if neither knows it. */
export function resolvePrimaryAddress(settings: Pick<ForwardSettings, "hosts" | "target">, host: string): string | null {
  // Own keys only: a primary named "constructor" must not resolve to Object.prototype's.
  if (Object.hasOwn(settings.hosts, host)) return settings.hosts[host] ?? null;
  if (settings.target === null) return null;
  return settings.target.replaceAll("{host}", host).replace(/\/+$/, "");
}
