// Every key LiteFS v0.5.14 accepts in litefs.yml (it decodes strictly: one unknown key and it
// refuses to start). Transcribed from the LiteFS contract ("Config file"). Tests walk rendered
// configs against this tree, so a typo in render.ts cannot reach a real node.

/** `true` marks a leaf (a scalar, or `exec`'s string-or-list); an object holds nested keys. */
export type LiteFSKeyTree = { readonly [key: string]: true | LiteFSKeyTree };

function tree(t: Record<string, true | LiteFSKeyTree>): LiteFSKeyTree {
  return Object.freeze(t);
}

export const KNOWN_LITEFS_KEYS: LiteFSKeyTree = tree({
  "exit-on-error": true,
  "skip-sync": true,
  "strict-verify": true,
  // A string, or a list of {cmd, if-candidate}; we only ever write the string form.
  exec: true,
  data: tree({ dir: true, compress: true, retention: true, "retention-monitor-interval": true }),
  fuse: tree({ dir: true, "allow-other": true, debug: true }),
  http: tree({ addr: true, "snapshot-timeout": true }),
  proxy: tree({
    addr: true,
    target: true,
    db: true,
    "max-lag": true,
    debug: true,
    passthrough: true,
    "always-forward": true,
    "primary-redirect-timeout": true,
    "read-timeout": true,
    "read-header-timeout": true,
    "write-timeout": true,
    "idle-timeout": true,
  }),
  lease: tree({
    type: true,
    hostname: true,
    "advertise-url": true,
    candidate: true,
    promote: true,
    "reconnect-delay": true,
    "demote-delay": true,
    databases: true,
    consul: tree({ url: true, key: true, ttl: true, "lock-delay": true }),
  }),
  backup: tree({ type: true, path: true, url: true, cluster: true, "auth-token": true }),
  log: tree({ format: true, timestamp: true, debug: true }),
  tracing: tree({ enabled: true, path: true, "max-size": true, "max-count": true, compress: true }),
});

/**
 * Dotted paths of keys in a parsed litefs.yml that LiteFS v0.5.14 would reject, including
 * a section written where LiteFS expects a scalar and vice versa. Empty when all are known.
 */
export function findUnknownLitefsKeys(doc: unknown, known: LiteFSKeyTree = KNOWN_LITEFS_KEYS, prefix = ""): string[] {
  if (typeof doc !== "object" || doc === null || Array.isArray(doc))
    return prefix === "" ? ["(document is not a mapping)"] : [];
  const unknown: string[] = [];
  for (const [key, value] of Object.entries(doc)) {
    const path = prefix ? `${prefix}.${key}` : key;
    const spec = known[key];
    if (spec === undefined) unknown.push(path);
    else if (spec === true) {
      if (typeof value === "object" && value !== null && !Array.isArray(value))
        unknown.push(`${path} (a section where LiteFS expects a value)`);
    } else if (typeof value !== "object" || value === null || Array.isArray(value)) {
      unknown.push(`${path} (a value where LiteFS expects a section)`);
    } else {
      unknown.push(...findUnknownLitefsKeys(value, spec, path));
    }
  }
  return unknown;
}
