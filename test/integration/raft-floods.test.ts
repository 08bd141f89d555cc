// Connection floods against the Raft and lease-forward listeners, with real sockets on loopback.
// The attackers connect from other loopback addresses (127.0.0.2 and up: all of 127/8 is local on
// Linux), the members from 127.0.0.1, so per-source caps and the slots reserved for members can be
// told apart. Each attack holds its sockets open and re-opens every one that is closed.
import { connect, type Socket } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { startForwardServer, httpForwarder, type ForwardServer } from "../../src/lease/forward.js";
import { startTcpTransport, type TcpTransport } from "../../src/raft/transport-tcp.js";
import type { TransportEvent } from "../../src/raft/transport.js";
import type { Message } from "../../src/raft/types.js";
import { request as httpsRequest } from "node:https";
import { pskChannel, pskClientOptions } from "../../src/raft/tls-psk.js";
import type { LeaseRequest } from "../../src/lease/types.js";
import { raftMessage } from "../support/raft/message.js";

const SECRET = "flood-test-secret-0123456789";
const cleanups: (() => unknown)[] = [];

afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function msg(from: string, to: string, term: number): Message {
  return raftMessage({ type: "app", from, to, term });
}

/** Holds `perSource` idle sockets from each of `sources` loopback addresses, re-opening any that close. */
function flood(
  port: number,
  sources: readonly string[],
  perSource: number,
): { opened: () => number; stop: () => void } {
  let stopped = false;
  let opened = 0;
  const live = new Set<Socket>();
  const open = (localAddress: string): void => {
    if (stopped) return;
    opened++;
    const s = connect({ host: "127.0.0.1", port, localAddress });
    live.add(s);
    s.on("error", () => {});
    s.on("close", () => {
      live.delete(s);
      // Re-open at once: the attacker keeps the pressure on for the whole test.
      setTimeout(() => open(localAddress), 5);
    });
  };
  for (const src of sources) for (let i = 0; i < perSource; i++) open(src);
  const stop = (): void => {
    stopped = true;
    for (const s of live) s.destroy();
  };
  cleanups.push(stop);
  return { opened: () => opened, stop };
}

async function until(cond: () => boolean, what: string, ms: number): Promise<number> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > ms) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
  return Date.now() - t0;
}

async function transport(
  id: string,
  peers: Record<string, string>,
  onEvent?: (e: TransportEvent) => void,
  port = 0,
): Promise<TcpTransport> {
  const t = await startTcpTransport({
    id,
    clusterId: "c1",
    secret: SECRET,
    listen: { host: "127.0.0.1", port },
    peers,
    reconnectMinMs: 20,
    reconnectMaxMs: 200,
    ...(onEvent ? { onEvent } : {}),
  });
  cleanups.push(() => t.close());
  return t;
}

const RENEW: LeaseRequest = { op: "session-renew", id: "s1" };
const attackers = (n: number): string[] => Array.from({ length: n }, (_, i) => `127.0.0.${i + 2}`);

describe("Raft listener under a connection flood", () => {
  it(
    "a member still connects while 10 hosts hold 100+ idle sockets open and re-open every closed one",
    { timeout: 30_000 },
    async () => {
      const events: TransportEvent[] = [];
      const b = await transport("b", { a: "127.0.0.1:1" }, (e) => events.push(e));
      const attack = flood(b.address.port, attackers(10), 12);
      await until(() => attack.opened() >= 120, "the flood to start", 5000);
      await new Promise((r) => setTimeout(r, 1500)); // past the pre-handshake deadline: the flood keeps re-opening
      const got: Message[] = [];
      b.setHandler((m) => got.push(m));
      const a = await transport("a", { b: `127.0.0.1:${b.address.port}` });
      a.send([msg("a", "b", 1)]);
      const ms = await until(() => got.length === 1, "the member's message through the flood", 10_000);
      process.stderr.write(
        `[raft-floods] member delivered after ${ms} ms under a flood of ${attack.opened()} attacker connections\n`,
      );
      // Per-source caps refused most attacker sockets at once; idle ones were cut at the ~1 s deadline.
      expect(
        events.some((e) => e.type === "rejected" && /too many connections from 127\.0\.0\.\d+/.test(e.reason)),
      ).toBe(true);
      expect(events.some((e) => e.type === "rejected" && /handshake not finished within 1000 ms/.test(e.reason))).toBe(
        true,
      );
    },
  );

  it("cuts an idle pre-handshake socket after about 1 s", { timeout: 15_000 }, async () => {
    const b = await transport("b", { a: "127.0.0.1:1" });
    const s = connect({ host: "127.0.0.1", port: b.address.port });
    cleanups.push(() => s.destroy());
    s.on("error", () => {});
    await new Promise<void>((r) => s.on("connect", () => r()));
    const t0 = Date.now();
    await new Promise<void>((r) => s.on("close", () => r()));
    const ms = Date.now() - t0;
    expect(ms).toBeGreaterThan(800);
    expect(ms).toBeLessThan(5000);
  });
});

describe("lease-forward listener under a connection flood", () => {
  const rejections: string[] = [];
  async function forwardServer(): Promise<ForwardServer> {
    rejections.length = 0;
    const server = await startForwardServer({
      onRejected: (_remote, reason) => rejections.push(reason),
      secret: SECRET,
      clusterId: "c1",
      listenHost: "127.0.0.1",
      advertiseHost: "127.0.0.1",
      memberHosts: ["127.0.0.1"],
      limits: { idleTimeoutMs: 1000 },
      // Echo the session id back, as a session-create answer would carry one.
      execute: async (request) => ({ kind: "created", id: request.op === "session-renew" ? request.id : "?" }),
    });
    cleanups.push(() => server.close());
    return server;
  }

  it("bounds connections per source, cuts idle ones, and still serves a member", { timeout: 30_000 }, async () => {
    const server = await forwardServer();
    const port = Number(server.advertiseAddr.split(":")[1]);
    const attack = flood(port, attackers(10), 20);
    await until(() => attack.opened() >= 200, "the flood to start", 5000);
    await new Promise((r) => setTimeout(r, 1500));
    expect(rejections.some((r) => /too many connections from 127\.0\.0\.\d+/.test(r))).toBe(true);
    const forward = httpForwarder({ secret: SECRET, clusterId: "c1", addressOf: () => server.advertiseAddr });
    cleanups.push(() => forward.close());
    const t0 = Date.now();
    const reply = await forward("leader", RENEW, 5000);
    process.stderr.write(
      `[raft-floods] forward answered in ${Date.now() - t0} ms under a flood of ${attack.opened()} attacker connections\n`,
    );
    expect(reply).toEqual({ kind: "created", id: "s1" });
  });

  it(
    "closes an idle connection (no TLS) within the handshake deadline and a keep-alive one after the idle timeout",
    { timeout: 15_000 },
    async () => {
      const server = await forwardServer();
      const port = Number(server.advertiseAddr.split(":")[1]);
      const s = connect({ host: "127.0.0.1", port });
      cleanups.push(() => s.destroy());
      s.on("error", () => {});
      const t0 = Date.now();
      await new Promise<void>((r) => s.on("close", () => r()));
      expect(Date.now() - t0).toBeLessThan(5000);
      const forward = httpForwarder({ secret: SECRET, clusterId: "c1", addressOf: () => server.advertiseAddr });
      cleanups.push(() => forward.close());
      await forward("leader", RENEW, 5000);
      expect(server.server.listenerCount("connection")).toBeGreaterThan(0);
      const open = (): Promise<number> => new Promise((r) => server.server.getConnections((_e, n) => r(n)));
      expect(await open()).toBe(1);
      const waited = await (async () => {
        const t1 = Date.now();
        while ((await open()) > 0 && Date.now() - t1 < 8000) await new Promise((r) => setTimeout(r, 50));
        return Date.now() - t1;
      })();
      expect(await open()).toBe(0);
      expect(waited).toBeLessThan(8000);
    },
  );

  it(
    "refuses a follower with the wrong secret, and a follower of another protocol version with a clear error",
    { timeout: 15_000 },
    async () => {
      const server = await forwardServer();
      const wrong = httpForwarder({
        secret: "not-the-secret-0123456789",
        clusterId: "c1",
        addressOf: () => server.advertiseAddr,
      });
      cleanups.push(() => wrong.close());
      await expect(wrong("leader", RENEW, 3000)).rejects.toThrow(/another raft\.secret/);
      const port = Number(server.advertiseAddr.split(":")[1]);
      const old = await new Promise<{ status: number; body: string }>((resolve, reject) => {
        const req = httpsRequest(
          {
            host: "127.0.0.1",
            port,
            method: "POST",
            path: "/v1/internal/lease-forward",
            headers: { "x-litefs-lease-forward-version": "1" },
            ...pskClientOptions(pskChannel(SECRET, "c1", "lease-forward")),
          },
          (res) => {
            let body = "";
            res.on("data", (c: Buffer) => (body += c.toString()));
            res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
          },
        );
        req.on("error", reject);
        req.end(JSON.stringify(RENEW));
      });
      expect(old.status).toBe(400);
      expect(old.body).toMatch(/protocol version mismatch: the follower speaks 1, this leader speaks 2/);
    },
  );
});
