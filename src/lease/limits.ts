// The fixed budget of the replicated lease state, and the arithmetic that proves a snapshot of it
// always fits the Raft codec. LiteFS needs one session per node at a time (plus a few that are
// waiting for their TTL after a failed acquire), two keys (`K` and `K/clusterid`) and values of
// about 100 bytes; everything here is far above that and far below what would break Raft.
//
// The budget is enforced twice: by the leader before it proposes (a clear HTTP error), and by the
// state machine when it applies (a deterministic refusal, never a throw), so an over-budget entry
// that was somehow committed cannot grow the state or crash-loop the members.

/** Largest KV value, in raw bytes (LiteFS writes about 100: `{"hostname","advertise-url"}`). */
export const MAX_KV_VALUE_BYTES = 4096;
/** Largest KV value as stored (base64 of MAX_KV_VALUE_BYTES). */
export const MAX_KV_VALUE_BASE64_CHARS = 4 * Math.ceil(MAX_KV_VALUE_BYTES / 3);
/** Most KV entries (LiteFS uses two). */
export const MAX_KV_KEYS = 16;
/** Largest key, in UTF-16 code units. */
export const MAX_KV_KEY_CHARS = 256;
/** Sum over all KV entries of key length + raw value bytes. */
export const MAX_KV_TOTAL_BYTES = 32 * 1024;
/** Most live sessions (LiteFS: one per node, plus failed acquires waiting for 2 x TTL). */
export const MAX_SESSIONS = 1024;
/** Longest session Name or Node, in UTF-16 code units. */
export const MAX_SESSION_TEXT_CHARS = 128;
/** Longest TTL text ("10s"), in UTF-16 code units. */
export const MAX_TTL_TEXT_CHARS = 32;
/** Consul's session TTL range: 10 s ... 24 h (the lower bound is configurable, default 5 s). */
export const MAX_TTL_MS = 24 * 3600_000;
/** The floor no configuration can go below (tests run with 1 s; LiteFS with 10 s). */
export const ABSOLUTE_MIN_TTL_MS = 1000;
/** Consul caps lock-delay at 60 s; longer ones are refused rather than silently capped. */
export const MAX_LOCK_DELAY_MS = 60_000;
/** Most forwarding addresses announced (one per Raft member; the codec allows 64 voters). */
export const MAX_ANNOUNCED = 64;
/** Longest member id (the codec's id limit, in bytes, so also in code units) and address. */
export const MAX_MEMBER_ID_CHARS = 255;
export const MAX_FORWARD_ADDR_CHARS = 300;
/** Largest write-gate grace a session's holder may record (quorumGraceMs is about 2 s). */
export const MAX_MEMBER_GRACE_MS = 60_000;
/** Session ids are UUIDs made by the leader. */
export const SESSION_ID_CHARS = 36;

// ---------------------------------------------------------------- snapshot size bound
// The snapshot is JSON.stringify of the state, UTF-8 encoded. A string of n UTF-16 code units
// takes at most 2 + 6n bytes (a control character or lone surrogate becomes \uXXXX; anything else
// is at most 3 UTF-8 bytes per code unit). Numbers are non-negative safe integers: at most 16
// digits. FIXED_* count every key name, colon, comma and brace of one record (checked by a test
// that builds worst-case records).
const jsonString = (chars: number): number => 2 + 6 * chars;
const JSON_NUMBER = 16;
const FIXED_SESSION = 160;
const FIXED_KV = 100;
const FIXED_ANNOUNCE = 5;
const FIXED_TOP = 80;

/** Most bytes one session record takes in the snapshot. */
export const SESSION_JSON_MAX_BYTES =
  FIXED_SESSION +
  jsonString(SESSION_ID_CHARS) +
  2 * jsonString(MAX_SESSION_TEXT_CHARS) +
  jsonString(MAX_TTL_TEXT_CHARS) +
  jsonString("release".length) +
  jsonString(MAX_MEMBER_ID_CHARS) +
  5 * JSON_NUMBER;

/** Most bytes one KV record takes (the value is base64: ASCII, no escapes). */
export const KV_JSON_MAX_BYTES =
  FIXED_KV +
  jsonString(MAX_KV_KEY_CHARS) +
  2 +
  MAX_KV_VALUE_BASE64_CHARS +
  jsonString(SESSION_ID_CHARS) +
  4 * JSON_NUMBER;

/** Most bytes one announced forwarding address takes. */
export const ANNOUNCE_JSON_MAX_BYTES =
  FIXED_ANNOUNCE + jsonString(MAX_MEMBER_ID_CHARS) + jsonString(MAX_FORWARD_ADDR_CHARS);

/** Upper bound of a lease snapshot in bytes, from the budget alone (about 2.5 MB). */
export const SNAPSHOT_MAX_BYTES =
  FIXED_TOP +
  MAX_SESSIONS * (SESSION_JSON_MAX_BYTES + 1) +
  MAX_KV_KEYS * (KV_JSON_MAX_BYTES + 1) +
  MAX_ANNOUNCED * (ANNOUNCE_JSON_MAX_BYTES + 1) +
  2 * JSON_NUMBER;

/**
 * Largest JSON body of one lease request between members (follower -> leader forwarding),
 * derived from the value limit: a kv-put of the largest value (base64) with the longest key, a
 * session id and 1 KiB for field names and numbers. The forward channel accepts exactly this
 * much, so whatever the HTTP front end accepts forwards too (one limit everywhere).
 */
export const MAX_LEASE_REQUEST_BYTES =
  MAX_KV_VALUE_BASE64_CHARS + jsonString(MAX_KV_KEY_CHARS) + jsonString(SESSION_ID_CHARS) + 1024;
