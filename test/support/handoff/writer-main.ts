// An app process for handoff tests: writes one row every WRITER_INTERVAL_MS through the guarded
// driver on its node (settings from LITEFS_* env, raft-mode gate), and prints one line per attempt:
//   ack <id> <epoch ms>        the write was acknowledged (committed)
//   refused <reason> <epoch ms> the gate refused it (NotPrimaryError / SplitBrainError)
//   error <code> <epoch ms>     anything else
// Stops when stdin closes or after 60 s.
import { loadSettings } from "../../../src/config/index.js";
import { isNotPrimaryError, isSplitBrainError, type NotPrimaryError } from "../../../src/errors.js";
import { openNode } from "../../../src/node/node.js";
import { openGuardedDatabase } from "../../../src/driver/open.js";

const settings = loadSettings();
const node = openNode(settings, { readyTimeoutMs: 2000 });
const intervalMs = Number(process.env["WRITER_INTERVAL_MS"] ?? 5);
const out = (line: string): void => void process.stdout.write(line + "\n");

await node.ready;
const db = openGuardedDatabase(settings, node);
const insert = db.prepare("INSERT INTO writes (id, node) VALUES (?, ?)");
let seq = 0;
let stopped = false;
const stop = (): void => {
  stopped = true;
};
process.stdin.on("close", stop);
process.stdin.resume();
setTimeout(stop, 60_000).unref();

while (!stopped) {
  const id = `${settings.nodeId}-${++seq}`;
  try {
    insert.run(id, settings.nodeId);
    out(`ack ${id} ${Date.now()}`);
  } catch (error) {
    if (isNotPrimaryError(error)) out(`refused ${(error as NotPrimaryError).reason} ${Date.now()}`);
    else if (isSplitBrainError(error)) out(`refused split-brain ${Date.now()}`);
    else out(`error ${(error as { code?: string }).code ?? (error as Error).message} ${Date.now()}`);
  }
  await new Promise((r) => setTimeout(r, intervalMs));
}
db.close();
await node.close();
process.exit(0);
