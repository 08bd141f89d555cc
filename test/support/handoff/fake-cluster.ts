// A test double of a LiteFS v0.5.14 cluster with a consul lease, for handoff tests: one HTTP API
// per node on 127.0.0.1 speaking the contract (GET /info, /events, /metrics; POST /promote), mount
// files as LiteFS writes them (`.primary` on replicas, `<db>-pos`, `.lag`), and, standing in for
// the lease service, each node's published lease state file (the raft-mode write gate reads it).
//
// Mount directories are plain directories; the database is a real SQLite file in each. The app
// writes the primary's file directly. This double then behaves as LiteFS does where it matters:
// - TXID: the primary's TXID moves when its database changes (PRAGMA data_version, polled every
//   `pollMs`); `<db>-pos`, a tx event and `litefs_db_txid` follow.
// - Replication is asynchronous: every `replicationMs` each replica that is behind gets a copy of
//   the primary's database (SQLite's backup API, in place) and the TXID the copy started from.
// - A handoff (/promote on a replica) moves the primary at once, with whatever the target has
//   replicated: nothing is shipped first. Commits the old primary had not shipped are lost, and so
//   is anything written on the old primary afterwards (the next copy from the new primary
//   overwrites it): LiteFS's own behaviour, minus the exit 99.
import BetterSqlite3 from "better-sqlite3";
import { createServer, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { leaseStatePath, writeLeaseState } from "../../../src/lease/published-state.js";

export interface FakeNode {
  readonly name: string;
  readonly mountPath: string;
  readonly apiUrl: string;
  readonly port: number;
  isPrimary(): boolean;
  txid(): bigint;
  dbPath(): string;
}

export interface FakeCluster {
  readonly nodes: readonly FakeNode[];
  node(name: string): FakeNode;
  primary(): FakeNode;
  /** POST /promote calls so far, per target. */
  readonly promotions: string[];
  close(): Promise<void>;
}

export interface FakeClusterOptions {
  readonly root: string;
  readonly names: readonly string[];
  readonly databaseName: string;
  /** Run on the first primary before anything starts (schema). */
  readonly init: (db: BetterSqlite3.Database) => void;
  readonly replicationMs?: number;
  readonly pollMs?: number;
}

interface NodeState extends FakeNode {
  primaryFlag: boolean;
  position: bigint;
  streams: Set<ServerResponse>;
  server: Server;
  watcher: BetterSqlite3.Database | null;
  dataVersion: number;
}

const hex = (n: bigint): string => n.toString(16).padStart(16, "0");

export async function startFakeCluster(options: FakeClusterOptions): Promise<FakeCluster> {
  const db = options.databaseName;
  const promotions: string[] = [];
  const nodes: NodeState[] = [];
  let primary: NodeState;
  let syncing = false;
  let closed = false;

  const send = (n: NodeState, event: object): void => {
    for (const res of n.streams) res.write(JSON.stringify(event) + "\n");
  };
  const writeFiles = (n: NodeState): void => {
    writeFileSync(join(n.mountPath, `${db}-pos`), `${hex(n.position)}/${hex(n.position * 2654435761n)}\n`);
    writeFileSync(join(n.mountPath, ".lag"), n.primaryFlag ? "+000000000\n" : "+000000040\n");
    if (n.primaryFlag) rmSync(join(n.mountPath, ".primary"), { force: true });
    else writeFileSync(join(n.mountPath, ".primary"), `${primary.name}\n`);
  };
  // What the lease service would publish: the primary holds the lease, with a far deadline.
  const publishLease = (n: NodeState): void => {
    const now = process.hrtime.bigint();
    writeLeaseState(leaseStatePath(n.mountPath), {
      v: 1,
      pid: process.pid,
      node: n.name,
      raftId: `${n.name}:4001`,
      updatedNs: String(now),
      leaseSession: `session-${primary.name}`,
      primary: primary.name,
      holder: n.primaryFlag,
      refused: false,
      deadlineNs: n.primaryFlag ? String(now + 600_000_000_000n) : null,
      contactNs: String(now),
      graceMs: 600_000,
      raft: { term: 1, role: "follower", leader: "raft" },
    });
  };
  const setPosition = (n: NodeState, txid: bigint): void => {
    n.position = txid;
    writeFiles(n);
    send(n, {
      type: "tx",
      db,
      data: {
        txID: hex(txid),
        postApplyChecksum: hex(txid * 2654435761n),
        pageSize: 4096,
        commit: 2,
        timestamp: new Date().toISOString(),
      },
    });
  };

  for (const name of options.names) {
    const mountPath = join(options.root, name, "mnt");
    mkdirSync(mountPath, { recursive: true });
    const state = {
      name,
      mountPath,
      apiUrl: "",
      port: 0,
      primaryFlag: nodes.length === 0,
      position: 0n,
      streams: new Set<ServerResponse>(),
      watcher: null,
      dataVersion: -1,
      isPrimary: () => state.primaryFlag,
      txid: () => state.position,
      dbPath: () => join(mountPath, db),
    } as unknown as NodeState;
    nodes.push(state);
  }
  primary = nodes[0]!;
  {
    const first = new BetterSqlite3(primary.dbPath());
    first.pragma("journal_mode = WAL");
    options.init(first);
    first.close();
  }

  const openWatcher = (n: NodeState): void => {
    n.watcher = new BetterSqlite3(n.dbPath(), { fileMustExist: true });
    n.dataVersion = n.watcher.pragma("data_version", { simple: true }) as number;
  };

  const promote = (target: NodeState): void => {
    if (target === primary) return;
    const old = primary;
    old.watcher?.close();
    old.watcher = null;
    old.primaryFlag = false;
    old.position = -1n; // diverged: the next copy from the new primary overwrites it
    target.primaryFlag = true;
    primary = target;
    openWatcher(target);
    for (const n of nodes) {
      writeFiles(n);
      publishLease(n);
      send(n, {
        type: "primaryChange",
        data: n.primaryFlag ? { isPrimary: true } : { isPrimary: false, hostname: primary.name },
      });
    }
  };

  const api = (n: NodeState) =>
    createServer((req, res) => {
      const path = new URL(req.url ?? "/", "http://x").pathname;
      if (req.method === "GET" && path === "/info") {
        res.setHeader("content-type", "application/json");
        res.end(
          JSON.stringify(
            {
              clusterID: "LFSCFAKE",
              isPrimary: n.primaryFlag,
              candidate: true,
              path: join(n.mountPath, "..", "data"),
              primary: { hostname: primary.name },
            },
            null,
            2,
          ),
        );
      } else if (req.method === "GET" && path === "/events") {
        res.writeHead(200, { "content-type": "application/json" });
        res.write(
          JSON.stringify({
            type: "init",
            data: n.primaryFlag ? { isPrimary: true } : { isPrimary: false, hostname: primary.name },
          }) + "\n",
        );
        n.streams.add(res);
        res.on("close", () => n.streams.delete(res));
      } else if (req.method === "GET" && path === "/metrics") {
        res.setHeader("content-type", "text/plain; version=0.0.4");
        const txid = n.position < 0n ? 0n : n.position;
        res.end(
          `# HELP litefs_db_txid Current transaction ID.\n# TYPE litefs_db_txid gauge\nlitefs_db_txid{db="${db}"} ${Number(txid)}\nlitefs_is_primary ${n.primaryFlag ? 1 : 0}\n`,
        );
      } else if (req.method === "POST" && path === "/promote") {
        promotions.push(n.name);
        promote(n);
        res.end();
      } else {
        res.statusCode = 404;
        res.end("not found\n");
      }
    });

  for (const n of nodes) {
    n.server = api(n);
    await new Promise<void>((resolve) => n.server.listen(0, "127.0.0.1", resolve));
    (n as { port: number }).port = (n.server.address() as AddressInfo).port;
    (n as { apiUrl: string }).apiUrl = `http://127.0.0.1:${n.port}`;
  }
  openWatcher(primary);
  setPosition(primary, 1n);
  for (const n of nodes) {
    if (n !== primary) {
      const src = new BetterSqlite3(primary.dbPath(), { fileMustExist: true });
      await src.backup(n.dbPath());
      src.close();
      setPosition(n, 1n);
    }
    writeFiles(n);
    publishLease(n);
  }

  // Commits on the primary move its TXID (a batch of commits between two polls counts once).
  const poll = setInterval(() => {
    const w = primary.watcher;
    if (!w) return;
    const version = w.pragma("data_version", { simple: true }) as number;
    if (version !== primary.dataVersion) {
      primary.dataVersion = version;
      setPosition(primary, primary.position + 1n);
    }
  }, options.pollMs ?? 2);
  // Asynchronous replication, one copy at a time.
  const replicate = setInterval(() => {
    if (syncing || closed) return;
    const behind = nodes.filter((n) => n !== primary && n.position !== primary.position);
    if (behind.length === 0) return;
    syncing = true;
    const from = primary;
    const snapshotTxid = from.position;
    const src = new BetterSqlite3(from.dbPath(), { fileMustExist: true });
    void (async () => {
      try {
        for (const n of behind) {
          // One copy is one step, checked right before it: LiteFS stops streaming from a node the
          // moment it is no longer primary, so a copy never lands after a handoff (an aborted
          // backup leaves the destination as it was).
          await src
            .backup(n.dbPath(), {
              progress: () => {
                if (from !== primary || closed) throw new Error("primary changed: copy abandoned");
                return 0x7fffffff;
              },
            })
            .then(
              () => {
                if (from === primary && !closed) setPosition(n, snapshotTxid);
              },
              () => undefined,
            );
        }
      } finally {
        src.close();
        syncing = false;
      }
    })();
  }, options.replicationMs ?? 30);
  // The lease service republishes its state every probe.
  const lease = setInterval(() => nodes.forEach(publishLease), 250);

  return {
    nodes,
    node: (name) => nodes.find((n) => n.name === name)!,
    primary: () => primary,
    promotions,
    async close() {
      closed = true;
      clearInterval(poll);
      clearInterval(replicate);
      clearInterval(lease);
      for (const n of nodes) {
        n.watcher?.close();
        for (const s of n.streams) s.destroy();
        await new Promise<void>((resolve) => n.server.close(() => resolve()));
      }
    },
  };
}
