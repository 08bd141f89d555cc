// Lease requests as the service's front door hands them on, for the lease service unit tests.
import type { LeaseRequest } from "../../../src/lease/types.js";

export const LEASE_KEY = "litefs/primary";

/** LiteFS's session create (R3): behavior delete, the given TTL and lock-delay. */
export function sessionCreate(options: { ttlMs?: number; lockDelayNs?: number; node?: string } = {}): LeaseRequest {
  const ttlMs = options.ttlMs ?? 10_000;
  return {
    op: "session-create",
    name: "litefs",
    node: options.node ?? "node-b",
    ttl: `${ttlMs / 1000}s`,
    ttlMs,
    lockDelayNs: options.lockDelayNs ?? 500e6,
    behavior: "delete",
  };
}

/** LiteFS's acquire of the lease key (R4) for `session`, with its primary info as the value. */
export function acquireLease(session: string, hostname = "node-b"): LeaseRequest {
  const value = Buffer.from(JSON.stringify({ hostname, "advertise-url": `http://${hostname}:20202` })).toString(
    "base64",
  );
  return { op: "kv-put", key: LEASE_KEY, value, flags: 0, lock: "acquire", session };
}
