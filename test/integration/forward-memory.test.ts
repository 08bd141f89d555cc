// Issue 15's memory attack against `litefs-node forward` running as a real child process, with its
// resident memory read from /proc: 150 concurrent GETs each announcing a 9 MiB body and
// `litefs-txid: ffffffffffffffff` (a TXID this replica never reaches, so every read waits), then
// 150 concurrent 9 MiB POSTs to be forwarded to a slow primary. Before the fix the proxy buffered
// every body while it waited (70 MB -> 1.7 GB). Bound held here: the proxy's peak RSS stays
// within 128 MiB of its RSS before the attack (body budget 64 MiB + sockets + V8 slack).
import { readFileSync } from "node:fs";
import http from "node:http";
import net from "node:net";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { startCli } from "../support/cli.js";
import { startEventsServer } from "../support/events-server.js";
import { replicaProxyEnv } from "../support/forward-fixtures.js";
import { createTempMount } from "../support/litefs-mount.js";

const CLIENTS = 150;
const BODY = Buffer.alloc(9 * 1024 * 1024, 0x61); // one buffer, written to every socket (no copies client-side)
const BOUND_BYTES = 128 * 1024 * 1024;
// Generous: on a busy machine (the full suite on 2 shared cores) uploading 2.7 GB takes a while.
const ATTACK_TIMEOUT_MS = 45_000;

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** VmRSS / VmHWM (peak) of a process, in bytes. */
function memoryOf(pid: number): { rss: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kib = (field: string): number =>
    Number(new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(status)?.[1] ?? NaN) * 1024;
  return { rss: kib("VmRSS"), peak: kib("VmHWM") };
}

/**
 * One raw HTTP/1.1 request that announces and starts sending a big body; resolves with the status
 * line's code, 0 when the connection was reset before one arrived (a server refusing a large
 * upload may close while the client is still sending), -1 on timeout.
 */
function attack(port: number, method: string, headers: Record<string, string>, timeoutMs: number): Promise<number> {
  return new Promise((resolve) => {
    const socket = net.connect(port, "127.0.0.1");
    let head = "";
    const done = (status: number): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve(status);
    };
    const timer = setTimeout(() => done(-1), timeoutMs);
    socket.on("error", () => done(Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1] ?? 0)));
    socket.on("data", (d: Buffer) => {
      head += d.toString("latin1");
      const m = /^HTTP\/1\.1 (\d{3})/.exec(head);
      if (m) done(Number(m[1]));
    });
    const lines = Object.entries({ host: "proxy.test", "content-length": String(BODY.length), ...headers }).map(
      ([k, v]) => `${k}: ${v}`,
    );
    socket.write(`${method} /attack HTTP/1.1\r\n${lines.join("\r\n")}\r\n\r\n`);
    socket.write(BODY);
  });
}

describe("memory under attack", () => {
  it(`${CLIENTS} waiting GETs and ${CLIENTS} POSTs with 9 MiB bodies keep the proxy's peak RSS within 128 MiB of its idle RSS`, async () => {
    const mount = createTempMount({ role: "replica", primary: "node-a" });
    cleanups.push(() => mount.cleanup());
    const events = await startEventsServer({ fixture: "replica" });
    cleanups.push(() => events.close());
    // The primary's app holds each write 1.5 s, so buffered bodies stay in the proxy meanwhile.
    const primary = http.createServer((req, res) => {
      req.resume();
      req.on("end", () => setTimeout(() => res.writeHead(201).end("ok"), 1500));
    });
    const local = http.createServer((req, res) => {
      req.resume();
      req.on("end", () => res.writeHead(200).end("ok"));
    });
    for (const server of [primary, local]) {
      await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
      cleanups.push(
        () =>
          new Promise<void>((r) => {
            server.closeAllConnections();
            server.close(() => r());
          }),
      );
    }
    const urlOf = (s: http.Server): string => `http://127.0.0.1:${(s.address() as AddressInfo).port}`;
    const proxy = startCli(
      ["forward", "--listen", "127.0.0.1:0"],
      { ...replicaProxyEnv(mount.path, events.port, urlOf(local), urlOf(primary)), LITEFS_FORWARD_RYW_TIMEOUT: "2s" },
      150_000,
    );
    cleanups.push(() => proxy.kill());
    const [, url] = await proxy.waitForOutput(/listening on (http:\/\/127\.0\.0\.1:\d+)/);
    const port = Number(new URL(url ?? "").port);
    // Warm up both paths so lazy initialisation is not counted as attack memory.
    for (let i = 0; i < 3; i++) {
      expect((await fetch(`${url}/warm`, { signal: AbortSignal.timeout(5000) })).status).toBe(200);
      expect(
        (await fetch(`${url}/warm`, { method: "POST", body: "x", signal: AbortSignal.timeout(5000) })).status,
      ).toBe(201);
    }
    const pid = proxy.child.pid ?? 0;
    const idle = memoryOf(pid).rss;

    let t = Date.now();
    const reads = await Promise.all(
      Array.from({ length: CLIENTS }, () =>
        attack(port, "GET", { "litefs-txid": "ffffffffffffffff" }, ATTACK_TIMEOUT_MS),
      ),
    );
    const afterReads = memoryOf(pid);
    const tally = (xs: number[]): string =>
      JSON.stringify(xs.reduce<Record<number, number>>((m, x) => ({ ...m, [x]: (m[x] ?? 0) + 1 }), {}));
    console.log(`reads ${tally(reads)} in ${Date.now() - t} ms`);
    t = Date.now();
    const writes = await Promise.all(
      Array.from({ length: CLIENTS }, () => attack(port, "POST", {}, ATTACK_TIMEOUT_MS)),
    );
    const afterWrites = memoryOf(pid);
    console.log(`writes ${tally(writes)} in ${Date.now() - t} ms`);

    // The bound first: it is the point of the test.
    const grown = afterWrites.peak - idle;
    console.log(
      `proxy RSS idle ${(idle / 2 ** 20).toFixed(0)} MiB, peak after reads ${(afterReads.peak / 2 ** 20).toFixed(0)} MiB, after writes ${(afterWrites.peak / 2 ** 20).toFixed(0)} MiB`,
    );
    expect(grown).toBeLessThan(BOUND_BYTES);
    // Every read waited for its TXID and timed out (none buffered, none refused: 150 < 256 waits).
    expect(reads.filter((s) => s === 504)).toHaveLength(CLIENTS);
    // Writes: as many as the 64 MiB body budget holds were forwarded, the rest refused with 503.
    expect(writes.filter((s) => s === 201).length).toBeGreaterThan(0);
    expect(writes.filter((s) => s === 503).length).toBeGreaterThan(0);
    // Refused (503, or reset while still uploading) or done; never a timeout or another answer.
    expect(writes.every((s) => s === 201 || s === 503 || s === 0)).toBe(true);
    // Still serving afterwards.
    expect((await fetch(`${url}/after`, { signal: AbortSignal.timeout(5000) })).status).toBe(200);
  }, 150_000);
});
