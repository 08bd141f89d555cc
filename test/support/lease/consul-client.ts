// A Consul client that sends exactly what hashicorp/consul/api v1.11.0 sends for the calls LiteFS
// makes, and parses answers the way it does (non-200 = error except the two 404s; `true` bodies;
// renew's array of SessionEntry). Tests use it to talk to the lease service like LiteFS would.
// Unlike LiteFS it takes a timeout per call (LiteFS has none; tests must never hang).

export class ConsulError extends Error {
  constructor(
    readonly status: number | null,
    message: string,
  ) {
    super(message);
  }
}

interface KVPair {
  readonly Key: string;
  readonly Value: string | null;
  readonly Flags: number;
  readonly Session?: string;
  readonly LockIndex: number;
  readonly CreateIndex: number;
  readonly ModifyIndex: number;
}

export interface SessionEntry {
  readonly ID: string;
  readonly Name: string;
  readonly Node: string;
  readonly LockDelay: number;
  readonly Behavior: string;
  readonly TTL: string;
  readonly CreateIndex: number;
  readonly ModifyIndex: number;
}

/** What the LiteFS lease-loop model needs (real HTTP here; the simulator has its own). */
export interface ConsulApi {
  createSession(ttl: string, lockDelay: string): Promise<string>;
  /** null = 404 (session gone): LiteFS's ErrLeaseExpired. */
  renew(id: string): Promise<SessionEntry | null>;
  acquire(key: string, session: string, value: string): Promise<boolean>;
  release(key: string, session: string): Promise<boolean>;
  destroy(id: string): Promise<void>;
  get(key: string): Promise<KVPair | null>;
}

export interface HttpConsulOptions {
  readonly baseUrl: string;
  readonly token?: string;
  readonly timeoutMs?: number;
}

export function httpConsul(
  options: HttpConsulOptions,
): ConsulApi & { raw(method: string, path: string, body?: string): Promise<Response> } {
  const timeoutMs = options.timeoutMs ?? 5000;
  const raw = (method: string, path: string, body?: string): Promise<Response> =>
    fetch(options.baseUrl + path, {
      method,
      body: body === undefined ? null : body,
      headers: options.token ? { "X-Consul-Token": options.token } : {},
      signal: AbortSignal.timeout(timeoutMs),
    });
  const ok = async (res: Response): Promise<string> => {
    const text = await res.text();
    if (res.status !== 200) throw new ConsulError(res.status, `Unexpected response code: ${res.status} (${text})`);
    return text;
  };
  return {
    raw,
    async createSession(ttl, lockDelay) {
      // CreateNoChecks: NodeChecks always, LockDelay as "<ms>ms", TTL as Go's Duration.String().
      const body = JSON.stringify({
        Behavior: "delete",
        LockDelay: lockDelay,
        Name: "litefs",
        NodeChecks: [],
        TTL: ttl,
      });
      const out = JSON.parse(await ok(await raw("PUT", "/v1/session/create", body))) as { ID: string };
      return out.ID;
    },
    async renew(id) {
      const res = await raw("PUT", `/v1/session/renew/${id}`);
      if (res.status === 404) {
        await res.text();
        return null;
      }
      const entries = JSON.parse(await ok(res)) as SessionEntry[];
      return entries[0] ?? null;
    },
    async acquire(key, session, value) {
      return (await ok(await raw("PUT", `/v1/kv/${key}?acquire=${session}`, value))).includes("true");
    },
    async release(key, session) {
      return (await ok(await raw("PUT", `/v1/kv/${key}?release=${session}`, ""))).includes("true");
    },
    async destroy(id) {
      await ok(await raw("PUT", `/v1/session/destroy/${id}`));
    },
    async get(key) {
      const res = await raw("GET", `/v1/kv/${key}`);
      if (res.status === 404) {
        await res.text();
        return null;
      }
      const entries = JSON.parse(await ok(res)) as KVPair[];
      return entries[0] ?? null;
    },
  };
}
