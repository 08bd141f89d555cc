// One Raft + KV node as its own process, for real-process tests:
//
//   LITEFS_RAFT_SECRET=... node --import tsx test/support/raft/node-main.ts \
//     --id n1 --cluster c1 --dir /tmp/x/n1 --peer n2=127.0.0.1:4001 --peer n3=127.0.0.1:4002 \
//     [--bootstrap] [--tick-ms 50] [--snapshot-every 50] [--lifetime-ms 60000]
//
// Prints one JSON line {"ready":true,"raftPort":..,"controlPort":..} on stdout once listening.
// Control channel: HTTP on 127.0.0.1 (ephemeral port):
//   GET  /status            -> RaftNodeStatus
//   POST /put?key=&value=   -> 200 KvResult after apply | 421 {leader} | 503 {error}
//   GET  /dump              -> 200 {entries} after a linearizable read barrier | 421 | 503
// Exits when stdin closes (the test process died), after --lifetime-ms, or on SIGTERM.
// Storage errors (e.g. missing data without --bootstrap) print to stderr and exit with code 2.

import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { KvStateMachine, encodeKvCommand, type KvResult } from "./kv.js";
import { RaftNode, RaftUnavailableError, isNotLeaderError } from "../../../src/raft/runner.js";
import { openRaftStorage, RaftStorageError } from "../../../src/raft/storage.js";
import { startTcpTransport } from "../../../src/raft/transport-tcp.js";

interface Args {
  id: string;
  cluster: string;
  dir: string;
  peers: Record<string, string>;
  bootstrap: boolean;
  tickMs: number;
  snapshotEvery: number;
  lifetimeMs: number;
}

function parseArgs(argv: string[]): Args {
  const a: Partial<Args> & { peers: Record<string, string> } = {
    peers: {},
    bootstrap: false,
    tickMs: 50,
    snapshotEvery: 50,
    lifetimeMs: 120_000,
  };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i]!;
    const next = (): string => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${flag} needs a value`);
      return v;
    };
    if (flag === "--id") a.id = next();
    else if (flag === "--cluster") a.cluster = next();
    else if (flag === "--dir") a.dir = next();
    else if (flag === "--peer") {
      const [id, addr] = next().split("=");
      if (!id || !addr) throw new Error(`--peer expects id=host:port`);
      a.peers[id] = addr;
    } else if (flag === "--bootstrap") a.bootstrap = true;
    else if (flag === "--tick-ms") a.tickMs = Number(next());
    else if (flag === "--snapshot-every") a.snapshotEvery = Number(next());
    else if (flag === "--lifetime-ms") a.lifetimeMs = Number(next());
    else throw new Error(`unknown argument ${flag}`);
  }
  if (!a.id || !a.cluster || !a.dir) throw new Error("--id, --cluster and --dir are required");
  return a as Args;
}

function reply(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { "content-type": "application/json" });
  res.end(JSON.stringify(body));
}

function replyError(res: ServerResponse, e: unknown): void {
  if (isNotLeaderError(e)) reply(res, 421, { error: e.message, leader: e.leader });
  else if (e instanceof RaftUnavailableError) reply(res, 503, { error: e.message, reason: e.reason });
  else reply(res, 500, { error: (e as Error).message });
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const secret = process.env.LITEFS_RAFT_SECRET ?? "";
  const lifetime = setTimeout(() => process.exit(3), args.lifetimeMs);
  lifetime.unref();
  process.stdin.on("end", () => process.exit(0));
  process.stdin.on("close", () => process.exit(0));
  process.stdin.resume();

  let storage;
  try {
    storage = openRaftStorage({
      dir: args.dir,
      nodeId: args.id,
      clusterId: args.cluster,
      bootstrap: args.bootstrap,
      onWarning: (m) => process.stderr.write(`warning: ${m}\n`),
    });
  } catch (e) {
    if (e instanceof RaftStorageError) {
      process.stderr.write(`raft storage error (${e.kind}): ${e.message}\n`);
      process.exit(2);
    }
    throw e;
  }
  const transport = await startTcpTransport({
    id: args.id,
    clusterId: args.cluster,
    secret,
    listen: { host: "127.0.0.1", port: 0 },
    peers: args.peers,
    handshakeTimeoutMs: 1000,
    reconnectMinMs: 20,
    reconnectMaxMs: 300,
  });
  const kv = new KvStateMachine();
  const node = new RaftNode<KvResult>({
    id: args.id,
    voters: [args.id, ...Object.keys(args.peers)],
    clusterId: args.cluster,
    storage,
    transport,
    stateMachine: kv,
    tickMs: args.tickMs,
    snapshotEvery: args.snapshotEvery,
    proposalTimeoutMs: 3000,
    readTimeoutMs: 3000,
    onEvent: (e) => {
      if (e.type === "fatal") {
        process.stderr.write(`fatal: ${e.error.stack ?? e.error.message}\n`);
        process.exit(1);
      }
    },
  });

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? "/", "http://127.0.0.1");
    req.resume();
    if (req.method === "GET" && url.pathname === "/status") return reply(res, 200, node.status());
    if (req.method === "POST" && url.pathname === "/put") {
      const key = url.searchParams.get("key");
      const value = url.searchParams.get("value");
      if (key === null || value === null) return reply(res, 400, { error: "key and value are required" });
      node.propose(encodeKvCommand({ op: "put", key, value })).then(
        (r) => reply(res, 200, r),
        (e: unknown) => replyError(res, e),
      );
      return;
    }
    if (req.method === "GET" && url.pathname === "/dump") {
      node.read().then(
        () => reply(res, 200, { entries: kv.entries(), status: node.status() }),
        (e: unknown) => replyError(res, e),
      );
      return;
    }
    reply(res, 404, { error: `no route ${req.method} ${url.pathname}` });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  const addr = server.address();
  const controlPort = addr && typeof addr === "object" ? addr.port : 0;
  process.on("SIGTERM", () => {
    void node.close().then(() => process.exit(0));
  });
  process.stdout.write(JSON.stringify({ ready: true, raftPort: transport.address.port, controlPort }) + "\n");
}

main().catch((e: unknown) => {
  process.stderr.write(`node-main failed: ${(e as Error).stack ?? String(e)}\n`);
  process.exit(1);
});
