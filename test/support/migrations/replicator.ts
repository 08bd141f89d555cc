// A stand-in for LiteFS replication, run as its own process by the migration tests:
//   node --import tsx replicator.ts <primary db file> <replica db file> <delay ms>
// Waits, then copies the primary's (checkpointed) database into the replica's mount. It lives
// at most 30 s, so a test that forgets it cannot leave it behind.
import { replicateDatabase } from "./cluster.js";

const [fromFile, toFile, delayText] = process.argv.slice(2);
const delayMs = Number(delayText);
if (!fromFile || !toFile || !Number.isFinite(delayMs) || delayMs < 0) {
  process.stderr.write("usage: replicator.ts <from db> <to db> <delay ms>\n");
  process.exit(2);
}
setTimeout(() => process.exit(3), 30_000).unref();
setTimeout(() => {
  replicateDatabase(fromFile, toFile);
  process.exit(0);
}, delayMs);
