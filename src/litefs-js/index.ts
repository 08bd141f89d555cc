// `import { ... } from "litefs-node/litefs-js"`: the API of litefs-js (fly-apps/litefs-js, its
// main entry and `litefs-js/remix`, the one the Epic Stack uses) on litefs-node's node, so an app
// switches by changing an import. Same names, shapes and defaults; where litefs-js guesses, this
// asks the node:
//   - who is primary comes from LiteFS's /events stream (or `.primary` with `.lag`), so a replica
//     that lost its primary is not taken for the primary (litefs-js reads a missing `.primary` as
//     "I am primary");
//   - TXIDs come from /events `tx` pushes (or `<db>-pos`), waits end as soon as the position is
//     reached;
//   - where litefs-js takes `litefsDir` / `databaseFilename`, the settings say (LITEFS_MOUNT_PATH,
//     LITEFS_DATABASE); pass `{ node }` to use a node of your own.
// Self-hosted, the Fly-Replay responses thrown here are replayed by `litefs-node forward` in front
// of the app, as Fly.io's edge does (src/forward/proxy.ts acts on the same header).
import { hostname } from "node:os";
import { loadSettings } from "../config/index.js";
import { openNode, type LiteFSNode } from "../node/node.js";
import { readCookie } from "../forward/txid.js";
import { waitForTxid } from "../forward/wait-for-txid.js";

export interface InstanceInfo {
  /** The primary's hostname (LiteFS lease.hostname); "" while no primary is known. */
  readonly primaryInstance: string;
  /** This node's name (nodeId; in consul mode by default the machine's hostname, as on Fly.io). */
  readonly currentInstance: string;
  /** True only while LiteFS says this node is primary (and the election agrees). */
  readonly currentIsPrimary: boolean;
}

export interface LiteFSJsOptions {
  /** The node to ask. Default: the one given to useLiteFSNode(), else one opened from loadSettings() on first use. */
  readonly node?: LiteFSNode;
}

export interface TxNumberOptions extends LiteFSJsOptions {
  /** Database whose TXID is meant. Default: the node's settings.databaseName. */
  readonly db?: string;
}

export interface WaitForUpToDateTxNumberOptions extends TxNumberOptions {
  /** Give up after this long (ms). Default 500, as litefs-js. */
  readonly timeoutMs?: number;
  /** While /events is down, re-read `<db>-pos` this often (ms); with /events the wait ends on the push. Default 30. */
  readonly intervalMs?: number;
}

let chosen: LiteFSNode | null = null;
let opened: LiteFSNode | null = null;

/** The node every function here asks when no `{ node }` is passed (e.g. the one your ORM entry opened: `db.$node`). */
export function useLiteFSNode(node: LiteFSNode): void {
  chosen = node;
}

function nodeOf(options: LiteFSJsOptions | undefined): LiteFSNode {
  if (options?.node) return options.node;
  if (chosen) return chosen;
  opened ??= openNode(loadSettings());
  return opened;
}

function infoOf(node: LiteFSNode): InstanceInfo {
  const { role, primary, splitBrain } = node.snapshot();
  const currentInstance = node.settings.nodeId ?? hostname();
  // Split brain: no primary anyone should be sent to until LiteFS and the election agree.
  const primaryInstance = splitBrain ? "" : (primary ?? "");
  return Object.freeze({ primaryInstance, currentInstance, currentIsPrimary: role === "primary" && !splitBrain });
}

/** Who is primary and who this is. Unlike litefs-js, safe to cache for no longer than a request. */
export async function getInstanceInfo(options?: LiteFSJsOptions): Promise<InstanceInfo> {
  const node = nodeOf(options);
  await node.ready;
  return infoOf(node);
}

/** getInstanceInfo without waiting for the node's first state (it answers from the mount files until then). */
export function getInstanceInfoSync(options?: LiteFSJsOptions): InstanceInfo {
  return infoOf(nodeOf(options));
}

/** The database's current TXID as a number (0 when unknown, as litefs-js). */
export async function getTxNumber(options?: TxNumberOptions): Promise<number> {
  const node = nodeOf(options);
  await node.ready;
  let txid: bigint | null = null;
  try {
    txid = node.txid(options?.db);
  } catch {
    // A malformed or unreadable <db>-pos: litefs-js answers 0 then too.
  }
  return txid === null ? 0 : Number(txid);
}

/** True once this node has reached `clientTxNumber`, false after `timeoutMs` (then send the request to the primary). */
export async function waitForUpToDateTxNumber(
  clientTxNumber: number,
  options: WaitForUpToDateTxNumberOptions = {},
): Promise<boolean> {
  const node = nodeOf(options);
  await node.ready;
  const db = options.db ?? node.settings.databaseName;
  const timeoutMs = options.timeoutMs ?? 500;
  const intervalMs = Math.max(1, options.intervalMs ?? 30);
  const deadline = performance.now() + timeoutMs;
  // Each round ends at once on a `tx` push that reaches the target, else re-reads the position.
  for (;;) {
    const left = deadline - performance.now();
    if (await waitForTxid(node, db, clientTxNumber, { timeoutMs: Math.max(0, Math.min(intervalMs, left)) }))
      return true;
    if (performance.now() >= deadline) return false;
  }
}

/** The cookie litefs-js keeps the client's TXID in (decimal). */
export const TXID_NUM_COOKIE_NAME = "txnum";

export interface TxCookieOptions {
  readonly path?: string;
  readonly domain?: string;
  readonly maxAge?: number;
  readonly expires?: Date;
  readonly httpOnly?: boolean;
  readonly secure?: boolean;
  readonly sameSite?: "lax" | "strict" | "none" | boolean;
}

/** `Set-Cookie` value for the txnum cookie; defaults as litefs-js: Path=/, HttpOnly, SameSite=Lax, Secure. */
export function getTxSetCookieHeader(value: number, options: TxCookieOptions = {}): string {
  if (!Number.isSafeInteger(value) || value < 0)
    throw new RangeError(`getTxSetCookieHeader: ${value} is not a TXID number`);
  const o = { path: "/", httpOnly: true, sameSite: "lax" as const, secure: true, ...options };
  const parts = [`${TXID_NUM_COOKIE_NAME}=${value}`];
  if (o.maxAge !== undefined) parts.push(`Max-Age=${Math.floor(o.maxAge)}`);
  if (o.domain !== undefined) parts.push(`Domain=${o.domain}`);
  if (o.path !== undefined) parts.push(`Path=${o.path}`);
  if (o.expires !== undefined) parts.push(`Expires=${o.expires.toUTCString()}`);
  if (o.httpOnly) parts.push("HttpOnly");
  if (o.secure) parts.push("Secure");
  if (o.sameSite !== false)
    parts.push(`SameSite=${o.sameSite === true ? "Strict" : o.sameSite[0]!.toUpperCase() + o.sameSite.slice(1)}`);
  return parts.join("; ");
}

/**
 * A response that makes Fly.io's edge, or `litefs-node forward` self-hosted, replay the request on
 * `instance` (302 to "/" with `fly-replay`, as litefs-js/remix: Remix passes a thrown redirect on).
 */
export function getReplayResponse(instance: string): Response {
  return new Response(null, { status: 302, headers: { Location: "/", "fly-replay": `instance=${instance}` } });
}

/** 503 when there is no primary to replay to (failover under way, or split brain). */
function noPrimaryResponse(): Response {
  return new Response("no primary is known right now; retry shortly\n", {
    status: 503,
    headers: { "retry-after": "1", "content-type": "text/plain" },
  });
}

/** Resolves true on the primary; elsewhere throws a replay Response to it (503 Response while none is known). */
export async function ensurePrimary(options?: LiteFSJsOptions): Promise<true> {
  const { currentIsPrimary, primaryInstance } = await getInstanceInfo(options);
  if (currentIsPrimary) return true;
  throw primaryInstance === "" ? noPrimaryResponse() : getReplayResponse(primaryInstance);
}

/** Resolves true on `instance`; elsewhere throws a replay Response to it. */
export async function ensureInstance(instance: string, options?: LiteFSJsOptions): Promise<true> {
  const { currentInstance } = await getInstanceInfo(options);
  if (instance === currentInstance) return true;
  throw getReplayResponse(instance);
}

export type ConsistencyResult =
  | { readonly type: "ok" }
  | { readonly type: "delete-cookie"; readonly setCookieHeader: string }
  | { readonly type: "replay"; readonly flyReplayHeader: string; readonly instance: string };

const deleteCookieHeader = (): string => getTxSetCookieHeader(0, { expires: new Date(0) });

/**
 * Reads the txnum cookie: "ok" without one; "delete-cookie" once this node has the client's
 * writes (or is the primary, or the cookie is garbage); "replay" to the primary when this replica
 * does not reach it within the wait.
 */
export async function checkCookieForTransactionalConsistency(
  cookieHeader: string | null | undefined,
  options?: WaitForUpToDateTxNumberOptions,
): Promise<ConsistencyResult> {
  const value = readCookie(cookieHeader, TXID_NUM_COOKIE_NAME);
  if (value === null || value === "") return { type: "ok" };
  const wanted = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(wanted))
    return { type: "delete-cookie", setCookieHeader: deleteCookieHeader() };
  const { primaryInstance, currentIsPrimary } = await getInstanceInfo(options);
  if (currentIsPrimary || (await waitForUpToDateTxNumber(wanted, options ?? {}))) {
    return { type: "delete-cookie", setCookieHeader: deleteCookieHeader() };
  }
  return { type: "replay", flyReplayHeader: `instance=${primaryInstance}`, instance: primaryInstance };
}

/**
 * litefs-js/remix's: the new cookie state, or throws a replay Response to the primary (a 503
 * Response while none is known) when this replica does not have the client's writes in time.
 */
export async function handleTransactionalConsistency(
  request: Request,
  options?: WaitForUpToDateTxNumberOptions,
): Promise<{ readonly type: "ok" } | { readonly type: "delete-cookie"; readonly setCookieHeader: string }> {
  const result = await checkCookieForTransactionalConsistency(request.headers.get("Cookie"), options);
  if (result.type !== "replay") return result;
  throw result.instance === "" ? noPrimaryResponse() : getReplayResponse(result.instance);
}

const MUTATIONS = new Set(["POST", "PUT", "PATCH", "DELETE"]);

/** After a mutation answered by the primary, appends the txnum cookie with the new TXID. */
export async function appendTxNumberCookie(
  request: Request,
  headers: Headers,
  options?: TxNumberOptions,
): Promise<void> {
  if (!MUTATIONS.has(request.method.toUpperCase())) return;
  if (!(await getInstanceInfo(options)).currentIsPrimary) return;
  headers.append("Set-Cookie", getTxSetCookieHeader(await getTxNumber(options)));
}
