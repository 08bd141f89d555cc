// A stand-in for the LiteFS HTTP API on 127.0.0.1 (ephemeral port): `GET /events` replays a
// recorded stream to every new connection and keeps it open (as LiteFS does), `GET /info`
// answers a recorded body. Tests switch its state, push more events, cut TCP chunks anywhere,
// and drop connections.
//
// Usage:
//   const server = await startEventsServer({ fixture: "replica" });  // events-replica.ndjson + info-replica.json
//   settings.httpAddr = `127.0.0.1:${server.port}`;  // or pass server.url as a LiteFS API base URL
//   await server.waitForStreams(1);
//   await server.sendEvent({ type: "primaryChange", data: { isPrimary: false } });
//   server.dropConnections();                 // abrupt: sockets destroyed, clients must reconnect
//   server.useFixture("primary");             // what the next connections see
//   await server.close();                     // in afterEach/afterAll
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { readLitefsFixture } from "./litefs-mount.js";

/** Recorded states: events-<name>.ndjson with the matching info-*.json. */
export type EventsFixture = "primary" | "replica" | "replica-primary-lost";

interface ChunkOptions {
  /** Write the text in pieces of this many BYTES (may cut a UTF-8 character or a JSON object). */
  readonly chunkBytes?: number;
  /** Pause between pieces (ms), so they arrive as separate TCP reads. Default 5 when chunkBytes is set. */
  readonly chunkDelayMs?: number;
}

export interface EventsServerOptions extends ChunkOptions {
  /** Replay this recorded state (stream + /info). */
  readonly fixture?: EventsFixture;
  /** Raw text each new /events connection receives (overrides `fixture`'s stream). */
  readonly stream?: string;
  /** Body of GET /info (overrides `fixture`'s). */
  readonly info?: string;
  /** End each /events response cleanly after replaying the stream (LiteFS never does). */
  readonly endAfterStream?: boolean;
}

export interface EventsServer {
  /** "http://127.0.0.1:<port>", the LiteFS API base URL. */
  readonly url: string;
  readonly port: number;
  /** /events responses currently open. */
  readonly openStreams: number;
  /** /events requests received so far (reconnects included). */
  readonly eventsRequests: number;
  /** /info requests received so far. */
  readonly infoRequests: number;
  /** What new /events connections replay and what /info answers, from the recorded fixtures. */
  useFixture(fixture: EventsFixture): void;
  /** Raw text new /events connections replay. */
  setStream(text: string, options?: ChunkOptions & { endAfterStream?: boolean }): void;
  /** GET /info body and status (objects are pretty-printed like LiteFS does). */
  setInfo(body: string | object, status?: number): void;
  /** Delay before /info answers (ms), to exercise client timeouts. */
  setInfoDelay(ms: number): void;
  /** Status /events answers with; anything but 200 ends the response at once with no stream. */
  setEventsStatus(status: number): void;
  /** Hold /events response headers for `ms` (connect timeouts). 0 = answer at once. */
  setEventsHeaderDelay(ms: number): void;
  /** Writes raw text to every open /events stream; resolves when written. */
  send(text: string, options?: ChunkOptions): Promise<void>;
  /** Writes one event as a JSON line to every open /events stream. */
  sendEvent(event: object): Promise<void>;
  /** Destroys every open /events socket (an abrupt drop, as when LiteFS dies). */
  dropConnections(): void;
  /** Ends every open /events response cleanly. */
  endStreams(): void;
  /** Resolves once `count` /events streams are open at the same time; rejects after timeoutMs (default 5000). */
  waitForStreams(count: number, timeoutMs?: number): Promise<void>;
  /** Resolves once `count` /events requests have arrived in total; rejects after timeoutMs (default 5000). */
  waitForEventsRequests(count: number, timeoutMs?: number): Promise<void>;
  /** Stops listening and destroys every connection. */
  close(): Promise<void>;
}

const INFO_FOR: Record<EventsFixture, () => string> = {
  primary: () => readLitefsFixture("info-primary.json"),
  replica: () => readLitefsFixture("info-replica.json"),
  // Per the contract: /info on a replica that lost its primary has primary.hostname "".
  "replica-primary-lost": () =>
    readLitefsFixture("info-replica.json").replace('"hostname": "node-a"', '"hostname": ""'),
};

const STREAM_FOR: Record<EventsFixture, () => string> = {
  primary: () => readLitefsFixture("events-primary.ndjson"),
  replica: () => readLitefsFixture("events-replica.ndjson"),
  "replica-primary-lost": () => readLitefsFixture("events-replica-primary-lost.ndjson"),
};

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function writeChunked(res: ServerResponse, text: string, options: ChunkOptions): Promise<void> {
  const bytes = Buffer.from(text, "utf8");
  const size = options.chunkBytes && options.chunkBytes > 0 ? options.chunkBytes : bytes.length;
  const delay = options.chunkBytes ? (options.chunkDelayMs ?? 5) : 0;
  for (let offset = 0; offset < bytes.length; offset += size) {
    if (res.destroyed || res.writableEnded) return;
    res.write(bytes.subarray(offset, offset + size));
    if (delay > 0 && offset + size < bytes.length) await sleep(delay);
  }
}

function waitUntil(condition: () => boolean, timeoutMs: number, what: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const check = (): void => {
      if (condition()) return resolve();
      if (Date.now() - started > timeoutMs)
        return reject(new Error(`events server: timed out after ${timeoutMs} ms waiting for ${what}`));
      setTimeout(check, 5);
    };
    check();
  });
}

export async function startEventsServer(options: EventsServerOptions = {}): Promise<EventsServer> {
  const fixture = options.fixture ?? "primary";
  let stream = options.stream ?? STREAM_FOR[fixture]();
  let streamChunks: ChunkOptions = { chunkBytes: options.chunkBytes, chunkDelayMs: options.chunkDelayMs };
  let endAfterStream = options.endAfterStream ?? false;
  let info = options.info ?? INFO_FOR[fixture]();
  let infoStatus = 200;
  let infoDelayMs = 0;
  let eventsStatus = 200;
  let eventsHeaderDelayMs = 0;
  let eventsRequests = 0;
  let infoRequests = 0;
  const streams = new Set<ServerResponse>();
  const sockets = new Set<Socket>();

  async function handleEvents(res: ServerResponse): Promise<void> {
    eventsRequests++;
    if (eventsHeaderDelayMs > 0) await sleep(eventsHeaderDelayMs);
    if (res.destroyed) return;
    if (eventsStatus !== 200) {
      res.writeHead(eventsStatus, { "content-type": "text/plain" }).end(`status ${eventsStatus}\n`);
      return;
    }
    res.writeHead(200, { "content-type": "application/json", "litefs-cluster-id": "LFSCF5A6C83438E082A6" });
    res.flushHeaders();
    streams.add(res);
    res.on("close", () => streams.delete(res));
    await writeChunked(res, stream, streamChunks);
    if (endAfterStream) res.end();
  }

  async function handleInfo(res: ServerResponse): Promise<void> {
    infoRequests++;
    if (infoDelayMs > 0) await sleep(infoDelayMs);
    if (res.destroyed) return;
    res
      .writeHead(infoStatus, { "content-type": "application/json", "litefs-cluster-id": "LFSCF5A6C83438E082A6" })
      .end(info);
  }

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const path = (req.url ?? "/").split("?")[0];
    const done = (p: Promise<void>): void => {
      p.catch(() => res.destroy());
    };
    if (req.method === "GET" && path === "/events") return done(handleEvents(res));
    if (req.method === "GET" && path === "/info") return done(handleInfo(res));
    res.writeHead(404).end("not found\n");
  });
  server.on("connection", (socket: Socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const port = (server.address() as AddressInfo).port;

  const api: EventsServer = {
    url: `http://127.0.0.1:${port}`,
    port,
    get openStreams() {
      return streams.size;
    },
    get eventsRequests() {
      return eventsRequests;
    },
    get infoRequests() {
      return infoRequests;
    },
    useFixture(name) {
      stream = STREAM_FOR[name]();
      info = INFO_FOR[name]();
      infoStatus = 200;
    },
    setStream(text, o = {}) {
      stream = text;
      streamChunks = { chunkBytes: o.chunkBytes, chunkDelayMs: o.chunkDelayMs };
      endAfterStream = o.endAfterStream ?? false;
    },
    setInfo(body, status = 200) {
      info = typeof body === "string" ? body : JSON.stringify(body, null, 2);
      infoStatus = status;
    },
    setInfoDelay(ms) {
      infoDelayMs = ms;
    },
    setEventsStatus(status) {
      eventsStatus = status;
    },
    setEventsHeaderDelay(ms) {
      eventsHeaderDelayMs = ms;
    },
    async send(text, o = {}) {
      await Promise.all([...streams].map((res) => writeChunked(res, text, o)));
    },
    sendEvent(event) {
      return api.send(`${JSON.stringify(event)}\n`);
    },
    dropConnections() {
      for (const res of streams) res.socket?.destroy();
      streams.clear();
    },
    endStreams() {
      for (const res of streams) res.end();
      streams.clear();
    },
    waitForStreams(count, timeoutMs = 5000) {
      return waitUntil(() => streams.size >= count, timeoutMs, `${count} open /events stream(s)`);
    },
    waitForEventsRequests(count, timeoutMs = 5000) {
      return waitUntil(() => eventsRequests >= count, timeoutMs, `${count} /events request(s)`);
    },
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  return api;
}
