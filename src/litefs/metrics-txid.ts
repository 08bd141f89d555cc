// A database's TXID on any LiteFS node, from its HTTP API: `GET /metrics` (Prometheus text) has
// `litefs_db_txid{db="<name>"} <value>`, set whenever the node's position moves (on the primary at
// commit, on a replica when it applies an LTX file). A pull API, so a handoff can ask a target
// whether it has caught up even when no new transaction arrives on its /events stream.
import { LiteFSError } from "../errors.js";

/** The TXID of `db` in a Prometheus text body, or null when the node has no such database yet. */
function parseDatabaseTxid(metrics: string, db: string): bigint | null {
  for (const line of metrics.split("\n")) {
    if (!line.startsWith("litefs_db_txid{")) continue;
    const close = line.indexOf("}");
    const labels = line.slice("litefs_db_txid{".length, close);
    const name = /(?:^|,)db="((?:[^"\\]|\\.)*)"/.exec(labels)?.[1]?.replace(/\\(.)/g, "$1");
    if (name !== db) continue;
    // Go's client prints floats with 'g' formatting: "12", "1.234567e+06".
    const value = Number(
      line
        .slice(close + 1)
        .trim()
        .split(" ")[0],
    );
    if (!Number.isFinite(value) || value < 0)
      throw new LiteFSError("LITEFS_API", `malformed litefs_db_txid line: ${JSON.stringify(line.slice(0, 120))}`);
    return BigInt(Math.round(value));
  }
  return null;
}

/** `GET <baseUrl>/metrics` → the TXID of `db` there (null: no such database yet). Throws LiteFSError. */
export async function fetchDatabaseTxid(
  baseUrl: string,
  db: string,
  options: { timeoutMs?: number; signal?: AbortSignal } = {},
): Promise<bigint | null> {
  const url = new URL("/metrics", baseUrl).toString();
  const timeout = AbortSignal.timeout(options.timeoutMs ?? 2000);
  let response: Response;
  try {
    response = await fetch(url, { signal: options.signal ? AbortSignal.any([options.signal, timeout]) : timeout });
  } catch (error) {
    throw new LiteFSError("LITEFS_API", `cannot reach LiteFS at ${url}: ${(error as Error).message}`, { cause: error });
  }
  const text = await response.text();
  if (response.status !== 200)
    throw new LiteFSError("LITEFS_API", `LiteFS ${url} answered HTTP ${response.status}: ${text.slice(0, 200)}`);
  return parseDatabaseTxid(text, db);
}
