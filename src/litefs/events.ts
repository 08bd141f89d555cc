// Typed events of LiteFS's `GET /events` stream (v0.5.14), decoded from the wire shapes:
//   {"type":"init","data":{"isPrimary":true}}
//   {"type":"init","data":{"isPrimary":false,"hostname":"node-a"}}
//   {"type":"primaryChange","data":{"isPrimary":false}}            (no hostname: no primary known)
//   {"type":"tx","db":"db","data":{"txID":"0000000000000004","postApplyChecksum":"…",
//                                  "pageSize":4096,"commit":2,"timestamp":"…"}}
import { LiteFSError } from "../errors.js";
import { parseTxid } from "./txid.js";

/** LiteFS's view of who is primary, as pushed by `init` (on connect) and `primaryChange`. */
export interface PrimaryStatusEvent {
  readonly type: "init" | "primaryChange";
  /** This node holds the lease. */
  readonly isPrimary: boolean;
  /** The primary's lease hostname when this node is a replica that knows it; otherwise null. */
  readonly hostname: string | null;
}

/** One committed transaction of one database, on every node (primary and replicas). */
interface TxEvent {
  readonly type: "tx";
  readonly db: string;
  readonly txid: bigint;
  readonly postApplyChecksum: string;
  readonly pageSize: number;
  readonly commit: number;
  readonly timestamp: string;
}

export type LiteFSEvent = PrimaryStatusEvent | TxEvent;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function invalid(type: string, why: string): LiteFSError {
  return new LiteFSError("LITEFS_API", `invalid LiteFS /events "${type}" event: ${why}`);
}

/**
 * Decodes one parsed /events object. Returns null for event types we do not use (LiteFS may add
 * more), throws LiteFSError (code LITEFS_API) when a known type has the wrong shape.
 */
export function decodeLiteFSEvent(value: unknown): LiteFSEvent | null {
  if (!isRecord(value)) throw new LiteFSError("LITEFS_API", "invalid LiteFS /events message: not a JSON object");
  const type = value["type"];
  if (typeof type !== "string") throw new LiteFSError("LITEFS_API", 'invalid LiteFS /events message: no "type"');
  const data = value["data"];
  switch (type) {
    case "init":
    case "primaryChange": {
      if (!isRecord(data) || typeof data["isPrimary"] !== "boolean")
        throw invalid(type, "expected data.isPrimary boolean");
      const hostname = data["hostname"];
      if (hostname !== undefined && typeof hostname !== "string") throw invalid(type, "data.hostname is not a string");
      // "" means no primary, the same as /info's `primary.hostname` on a replica that lost it.
      return { type, isPrimary: data["isPrimary"], hostname: hostname ? hostname : null };
    }
    case "tx": {
      const db = value["db"];
      if (typeof db !== "string" || db === "") throw invalid(type, "expected a db name");
      if (!isRecord(data)) throw invalid(type, "expected a data object");
      const txID = data["txID"];
      const txid = typeof txID === "string" ? parseTxid(txID) : null;
      if (txid === null) throw invalid(type, `data.txID is not hex: ${JSON.stringify(txID)}`);
      const checksum = data["postApplyChecksum"];
      return {
        type,
        db,
        txid,
        postApplyChecksum: typeof checksum === "string" ? checksum : "",
        pageSize: typeof data["pageSize"] === "number" ? data["pageSize"] : 0,
        commit: typeof data["commit"] === "number" ? data["commit"] : 0,
        timestamp: typeof data["timestamp"] === "string" ? data["timestamp"] : "",
      };
    }
    default:
      return null;
  }
}
