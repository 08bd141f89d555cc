// fast-check generators for litefs-node settings: valid inputs for both election modes, and the
// building blocks the invalid-value properties break on purpose.

import fc from "fast-check";
import type { LiteFSSettingsInput } from "../../src/config/index.js";

/** A path segment with any printable characters (spaces, unicode, YAML-special), never "/" or NUL. */
export const segment = fc
  .string({ unit: "grapheme", minLength: 1, maxLength: 8 })
  .filter((s) => !s.includes("/") && !s.includes("\0") && s !== "." && s !== ".." && !/[\u0000-\u001f\u007f]/.test(s));

export const relativePath = fc.array(segment, { minLength: 1, maxLength: 3 }).map((parts) => parts.join("/"));

/** Two absolute paths that can never contain each other: different first segments. */
const mountAndData = fc
  .tuple(relativePath, relativePath)
  .map(([m, d]) => ({ mountPath: `/mnt/${m}`, dataPath: `/data/${d}` }));

const fileName = fc
  .string({ unit: "grapheme", minLength: 1, maxLength: 12 })
  .filter((s) => !/[/\\\0]/.test(s) && s !== "." && s !== "..");

const nodeName = fc.stringMatching(/^[a-z][a-z0-9-]{0,12}$/);

const port = fc.integer({ min: 1, max: 65535 });

const listenHost = fc.constantFrom("", "0.0.0.0", "127.0.0.1", "localhost", "[::1]", "10.0.0.7");

const listenAddr = fc.tuple(listenHost, port).map(([host, p]) => `${host}:${p}`);

const goDuration = fc.oneof(
  fc.constant("0"),
  fc
    .array(fc.tuple(fc.integer({ min: 0, max: 999 }), fc.constantFrom("h", "m", "s", "ms", "us", "ns")), {
      minLength: 1,
      maxLength: 3,
    })
    .map((parts) => parts.map(([n, unit]) => `${n}${unit}`).join("")),
);

// A host label starting "xn--" is an IDNA A-label; WHATWG URL (and so our validation) rejects the
// invalid ones, such as a bare "xn--", so URL hosts leave that prefix out.
const httpUrl = fc
  .tuple(
    fc.constantFrom("http", "https"),
    nodeName.filter((host) => !/(^|\.)xn--/i.test(host)),
    port,
    fc.constantFrom("", "/", "/litefs"),
  )
  .map(([scheme, host, p, path]) => `${scheme}://${host}:${p}${path}`);

/** A command line: any printable text with a non-blank start (quotes, $, colons, unicode). */
const execCommand = fc
  .string({ unit: "grapheme", minLength: 1, maxLength: 40 })
  .filter((s) => s.trim() !== "" && !s.includes("\0"));

export const dialAddr = fc.tuple(nodeName, port).map(([host, p]) => `${host}:${p}`);

const addressKey = (addr: string): string => addr.toLowerCase();

const proxyInput = fc.record(
  {
    addr: listenAddr,
    target: dialAddr,
    db: fileName,
    passthrough: fc.array(fc.stringMatching(/^\/[a-z0-9*._-]{0,10}$/), { maxLength: 3 }),
    maxLag: fc.option(goDuration, { nil: null }),
  },
  { requiredKeys: ["target"] },
);

const common = fc.record({
  paths: mountAndData,
  databaseName: fc.option(fileName, { nil: undefined }),
  httpAddr: fc.option(listenAddr, { nil: undefined }),
  retention: fc.option(goDuration, { nil: undefined }),
  proxy: fc.option(proxyInput, { nil: null }),
  exec: fc.option(execCommand, { nil: null }),
});

/** The settings every mode shares, from one `common` draw. */
function commonInput(c: typeof common extends fc.Arbitrary<infer T> ? T : never): LiteFSSettingsInput {
  return {
    ...c.paths,
    databaseName: c.databaseName,
    httpAddr: c.httpAddr,
    retention: c.retention,
    proxy: c.proxy,
    exec: c.exec,
  };
}

function portOf(addr: string | undefined, fallback: number): number {
  return addr === undefined ? fallback : Number(addr.slice(addr.lastIndexOf(":") + 1));
}

/** Proxy and LiteFS API cannot share a port on one host; keep generated configs deployable. */
function portsDistinct(httpAddr: string | undefined, proxy: { addr?: string } | null): boolean {
  if (proxy === null) return true;
  return portOf(httpAddr, 20202) !== portOf(proxy.addr, 8080);
}

export const staticInput: fc.Arbitrary<LiteFSSettingsInput> = fc
  .tuple(common, nodeName, nodeName, fc.boolean(), fc.option(httpUrl, { nil: null }))
  .filter(([c]) => portsDistinct(c.httpAddr, c.proxy))
  .map(([c, nodeId, other, isPrimary, primaryUrl]) => ({
    ...commonInput(c),
    leaderElection: "static" as const,
    nodeId,
    primaryHostname: isPrimary ? nodeId : other,
    primaryUrl,
  }));

export const raftInput: fc.Arbitrary<LiteFSSettingsInput> = fc
  .tuple(
    common,
    nodeName,
    dialAddr,
    fc.uniqueArray(dialAddr, { minLength: 1, maxLength: 6, selector: addressKey }),
    fc.option(port, { nil: undefined }),
    fc.stringMatching(/^[A-Za-z0-9+/=]{16,40}$/),
    fc.option(httpUrl, { nil: null }),
    fc.option(
      relativePath.map((p) => `/raft/${p}`),
      { nil: undefined },
    ),
    fc.option(fc.boolean(), { nil: undefined }),
  )
  .filter(([c, , self, peers, leasePort]) => {
    if (!portsDistinct(c.httpAddr, c.proxy)) return false;
    if (peers.some((p) => addressKey(p) === addressKey(self))) return false;
    // The lease service listens on 127.0.0.1 and so does a wildcard or loopback LiteFS API.
    return portOf(c.httpAddr, 20202) !== (leasePort ?? 8500);
  })
  .map(([c, nodeId, selfAddr, peers, leasePort, secret, advertiseUrl, dataDir, bootstrap]) => ({
    ...commonInput(c),
    leaderElection: "raft" as const,
    nodeId,
    advertiseUrl,
    raft: { selfAddr, peers, leasePort, secret, dataDir, bootstrap },
  }));

export const validInput = fc.oneof(staticInput, raftInput);

const envName = fc.stringMatching(/^[A-Z_][A-Z0-9_]{0,12}$/);
/** A `${NAME}` reference LiteFS expands. */
const envReference = envName.map((name) => `\${${name}}`);
/** A comparison LiteFS evaluates to true/false, e.g. `${FLY_REGION == PRIMARY_REGION}`. */
const envComparison = fc
  .tuple(
    envName,
    fc.constantFrom("==", "!="),
    fc.oneof(
      envName,
      fc.stringMatching(/^[a-z0-9-]{0,8}$/).map((v) => `"${v}"`),
    ),
  )
  .map(([a, op, b]) => `\${${a} ${op} ${b}}`);

/**
 * consul mode (LiteFS's own lease in the user's Consul): not in validInput, whose invalid
 * variants expect a missing nodeId to be refused (consul mode defaults it to the hostname).
 */
export const consulInput: fc.Arbitrary<LiteFSSettingsInput> = fc
  .tuple(
    common,
    fc.option(nodeName, { nil: undefined }),
    fc.option(
      fc.oneof(
        httpUrl,
        envReference.map((r) => `http://${r}.vm.${r}.internal:20202`),
      ),
      { nil: undefined },
    ),
    fc.record(
      {
        url: fc.oneof(
          envReference,
          httpUrl,
          envReference.map((r) => `https://:${r}@consul:8500`),
        ),
        key: fc.oneof(
          fc.stringMatching(/^[a-z0-9-]{1,8}\/[a-z0-9-]{1,8}$/),
          envReference.map((r) => `litefs/${r}`),
        ),
        ttl: fc.constantFrom("10s", "15s", "1m", "24h"),
        lockDelay: fc.constantFrom("0s", "1s", "500ms", "60s"),
        candidate: fc.oneof(fc.boolean(), envComparison),
        promote: fc.boolean(),
      },
      { requiredKeys: ["url"] },
    ),
  )
  .filter(([c]) => portsDistinct(c.httpAddr, c.proxy))
  .map(([c, nodeId, advertiseUrl, consul]) => ({
    ...commonInput(c),
    leaderElection: "consul" as const,
    nodeId,
    advertiseUrl,
    consul,
  }));
