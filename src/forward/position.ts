// The primary's exact position right after a write, for the LiteFS-TXID header: `<db>-pos` is
// written by LiteFS at commit, while the /events `tx` notice may arrive a moment later.
import { readPositionFile } from "../litefs/mount-files.js";

/** A `currentTxid` for createForwardingProxy that reads `<mountPath>/<db>-pos`; null when absent or unreadable. */
export function positionFileTxid(mountPath: string): (db: string) => bigint | null {
  return (db) => {
    try {
      return readPositionFile(mountPath, db)?.txid ?? null;
    } catch {
      return null;
    }
  };
}
