// Issue 12 item 5 with real `litefs-node lease-server` processes on 127.0.0.1:
// LITEFS_RAFT_BOOTSTRAP=true left in the environment (as a compose file would) matters only for
// empty storage: restarts keep working. A member whose storage was wiped and that comes back
// with the flag is refused by its peers (re-created storage) and stops with that error; it never
// forms a second cluster, and the cluster keeps its term and leader.
import { rmSync } from "node:fs";
import { join } from "node:path";
import { afterEach, expect, it } from "vitest";
import { LeaseProcessCluster } from "../support/lease/process-cluster.js";

let cluster: LeaseProcessCluster | null = null;

afterEach(async () => {
  await cluster?.close();
  cluster = null;
});

async function until<T>(what: string, fn: () => T | null | undefined | false, ms: number): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

function raftOf(c: LeaseProcessCluster, i: number): { term: number; leader: string | null } | null {
  const r = c.readState(i);
  return r.ok ? r.state.raft : null;
}

it(
  "a bootstrap flag left on is ignored once storage exists; a wiped member coming back with it is refused",
  { timeout: 180_000 },
  async () => {
    const c = new LeaseProcessCluster(3, { env: { LITEFS_RAFT_BOOTSTRAP: "true" } });
    cluster = c;
    await c.init();
    await c.startAll();
    const leaderOf = (i: number): string | null => raftOf(c, i)?.leader ?? null;
    await until("a leader known everywhere", () => [0, 1, 2].every((i) => leaderOf(i) !== null), 60_000);

    // Restart node-c with the flag still set: it keeps its storage and rejoins (etcd-style).
    expect(await c.stop(2)).toBe(0);
    await c.start(2);
    await until("node-c back with a leader", () => leaderOf(2) !== null, 60_000);
    expect(c.stderr(2)).toMatch(/the bootstrap flag is ignored/);
    const term = Math.max(...[0, 1].map((i) => raftOf(c, i)!.term));

    // Wipe node-c's Raft storage and start it again with the flag: its peers remember its old
    // storage and refuse it; it stops with the reason instead of joining or forming a cluster.
    expect(await c.stop(2)).toBe(0);
    rmSync(join(c.root, c.names[2]!, "data", "raft"), { recursive: true, force: true });
    await c.start(2);
    await until("node-c to stop", () => !c.isRunning(2), 60_000);
    expect(c.stderr(2)).toMatch(
      /refused this member: re-created storage: member "127\.0\.0\.1:\d+" presents Raft storage incarnation/,
    );
    expect(c.stderr(2)).toMatch(/remove this member's Raft data directory and add the member back/);
    // The two healthy members kept their cluster: same leader known, no term inflation from node-c.
    await until("a leader on a and b", () => leaderOf(0) !== null && leaderOf(0) === leaderOf(1), 30_000);
    expect(Math.max(...[0, 1].map((i) => raftOf(c, i)!.term))).toBe(term);
  },
);
