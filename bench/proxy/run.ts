// `npm run bench:proxy`: what `litefs-node forward` adds over talking to the app directly.
// The app (bench/proxy/app.ts) and the proxy (the real CLI, a replica of a replayed LiteFS
// /events stream whose primary's app is that same app) each run in their own process; the load
// comes from this one. Measured:
//   - added latency p50/p99 at a fixed 1,000 req/s (open loop, bench/proxy/fixed-rate.ts), rounds
//     alternating direct / through the proxy, for reads passed through and writes forwarded
//     replica -> primary;
//   - the maximum rate (autocannon, closed loop, PROXY_BENCH_CONNECTIONS connections);
//   - the read-your-writes wait (bench/proxy/ryw-wait.ts).
// Knobs: PROXY_BENCH_RATE (1000), PROXY_BENCH_ROUND_MS (3000), PROXY_BENCH_ROUNDS (3),
// PROXY_BENCH_MAX_MS (5000), PROXY_BENCH_CONNECTIONS (32), PROXY_BENCH_RYW_ROUNDS (200).
import { readFileSync } from "node:fs";
import autocannon from "autocannon";
import { loadDescription, machineDescription, median, percentile } from "../harness.js";
import { startCli, startTsxProcess, type CliProcess } from "../../test/support/cli.js";
import { startEventsServer } from "../../test/support/events-server.js";
import { replicaProxyEnv } from "../../test/support/forward-fixtures.js";
import { createTempMount } from "../../test/support/litefs-mount.js";
import { fixedRate } from "./fixed-rate.js";
import { measureRywWait } from "./ryw-wait.js";

const num = (name: string, fallback: number): number => {
  const value = Number(process.env[name] ?? fallback);
  if (!Number.isFinite(value) || value <= 0)
    throw new Error(`${name} must be a positive number, got ${process.env[name]}`);
  return value;
};
const RATE = num("PROXY_BENCH_RATE", 1000);
const ROUND_MS = num("PROXY_BENCH_ROUND_MS", 3000);
const ROUNDS = num("PROXY_BENCH_ROUNDS", 3);
const MAX_MS = num("PROXY_BENCH_MAX_MS", 5000);
const CONNECTIONS = num("PROXY_BENCH_CONNECTIONS", 32);
const RYW_ROUNDS = num("PROXY_BENCH_RYW_ROUNDS", 200);
const WRITE_BODY = JSON.stringify({ title: "hello", body: "x".repeat(200) });

type Kind = "read" | "write";
const request = (kind: Kind): { method: "GET" | "POST"; body?: string } =>
  kind === "read" ? { method: "GET" } : { method: "POST", body: WRITE_BODY };

interface RateRow {
  p50: number[];
  p99: number[];
  errors: number;
  achieved: number[];
  /** CPU time the proxy process spent per request in the proxied rounds, µs (less sensitive to a busy machine than latency). */
  cpuUs: number[];
}

/** user + system CPU time of a process so far, in ms (from /proc; clock ticks of 10 ms). */
function cpuMsOf(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8")
    .replace(/^.*\) /, "")
    .split(" ");
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

async function fixedRateRounds(
  targets: Record<"direct" | "proxy", string>,
  kind: Kind,
  proxyPid: number,
): Promise<Record<"direct" | "proxy", RateRow>> {
  const empty = (): RateRow => ({ p50: [], p99: [], errors: 0, achieved: [], cpuUs: [] });
  const rows = { direct: empty(), proxy: empty() };
  // Warm-up: connections, JIT, the proxy's agents.
  for (const side of ["direct", "proxy"] as const)
    await fixedRate(`${targets[side]}/items`, { ...request(kind), rate: RATE, durationMs: 1000 });
  for (let round = 0; round < ROUNDS; round++) {
    const order = round % 2 === 0 ? (["direct", "proxy"] as const) : (["proxy", "direct"] as const);
    for (const side of order) {
      const cpuBefore = cpuMsOf(proxyPid);
      const result = await fixedRate(`${targets[side]}/items`, { ...request(kind), rate: RATE, durationMs: ROUND_MS });
      if (side === "proxy") rows.proxy.cpuUs.push(((cpuMsOf(proxyPid) - cpuBefore) * 1000) / result.latenciesMs.length);
      rows[side].p50.push(percentile(result.latenciesMs, 0.5));
      rows[side].p99.push(percentile(result.latenciesMs, 0.99));
      rows[side].errors += result.errors;
      rows[side].achieved.push(result.achievedRate);
    }
  }
  return rows;
}

async function maxRate(url: string, kind: Kind): Promise<{ rps: number; errors: number }> {
  const { method, body } = request(kind);
  const result = await autocannon({
    url: `${url}/items`,
    method,
    ...(body === undefined ? {} : { body, headers: { "content-type": "application/json" } }),
    connections: CONNECTIONS,
    duration: MAX_MS / 1000,
  });
  return { rps: result.requests.average, errors: result.errors + result.non2xx };
}

async function waitForUrl(child: CliProcess, pattern: RegExp): Promise<string> {
  const [, url] = await child.waitForOutput(pattern, 30_000);
  if (url === undefined) throw new Error(`no URL in ${child.stdout()}`);
  return url;
}

const ms = (value: number): string => value.toFixed(3);

async function main(): Promise<void> {
  console.log(`machine: ${machineDescription()}`);
  console.log(`at start: ${loadDescription()}`);
  console.log(
    `method: fixed ${RATE} req/s open loop, ${ROUNDS} alternating rounds of ${ROUND_MS} ms per side after 1 s warm-up, p50/p99 = median over rounds; ` +
      `max rate: autocannon, ${CONNECTIONS} connections, ${MAX_MS} ms; read-your-writes: ${RYW_ROUNDS} waits\n`,
  );
  const cleanups: (() => Promise<void> | void)[] = [];
  try {
    const app = startTsxProcess(["bench/proxy/app.ts"], {}, 30 * 60_000);
    cleanups.push(() => app.kill());
    const appUrl = await waitForUrl(app, /app listening on (http:\/\/\S+)/);
    const mount = createTempMount({ role: "replica", primary: "node-a" });
    cleanups.push(() => mount.cleanup());
    const events = await startEventsServer({ fixture: "replica" });
    cleanups.push(() => events.close());
    // The replica's local app and the primary's app are the same process: reads and forwarded writes hit the same server.
    const proxy = startCli(
      ["forward", "--listen", "127.0.0.1:0"],
      replicaProxyEnv(mount.path, events.port, appUrl, appUrl),
      30 * 60_000,
    );
    cleanups.push(() => proxy.kill());
    const proxyUrl = await waitForUrl(proxy, /listening on (http:\/\/\S+) -> app .* is replica/);
    const targets = { direct: appUrl, proxy: proxyUrl };

    const lines: string[] = [
      "| path | direct p50 / p99 (ms) | through the proxy p50 / p99 (ms) | added p50 / p99 (ms) | max rate direct / proxy (req/s) | proxy CPU per request (µs) |",
      "|---|---|---|---|---|---|",
    ];
    for (const kind of ["read", "write"] as const) {
      console.log(`  ${kind}s at ${RATE} req/s ...`);
      const rows = await fixedRateRounds(targets, kind, proxy.child.pid ?? 0);
      console.log(`  ${kind}s: max rate ...`);
      const direct = await maxRate(appUrl, kind);
      const through = await maxRate(proxyUrl, kind);
      const d50 = median(rows.direct.p50);
      const d99 = median(rows.direct.p99);
      const p50 = median(rows.proxy.p50);
      const p99 = median(rows.proxy.p99);
      const errors = rows.direct.errors + rows.proxy.errors + direct.errors + through.errors;
      const achieved = Math.min(...rows.direct.achieved, ...rows.proxy.achieved);
      const label = kind === "read" ? "read (GET) passed through" : "write (POST) forwarded replica -> primary";
      lines.push(
        `| ${label} | ${ms(d50)} / ${ms(d99)} | ${ms(p50)} / ${ms(p99)} | ${ms(p50 - d50)} / ${ms(p99 - d99)} | ${direct.rps.toFixed(0)} / ${through.rps.toFixed(0)} | ${median(rows.proxy.cpuUs).toFixed(0)} |`,
      );
      console.log(
        `    per round p99 direct ${rows.direct.p99.map(ms).join(", ")}; proxy ${rows.proxy.p99.map(ms).join(", ")}; lowest achieved rate ${achieved.toFixed(0)} req/s; errors ${errors}`,
      );
    }
    console.log("  read-your-writes wait ...");
    const ryw = await measureRywWait(RYW_ROUNDS);
    lines.push("");
    lines.push("| read-your-writes wait, from the `tx` event | p50 (ms) | p99 (ms) | max (ms) |", "|---|---|---|---|");
    lines.push(
      `| waitForTxid() resolves | ${ms(percentile(ryw.apiMs, 0.5))} | ${ms(percentile(ryw.apiMs, 0.99))} | ${ms(Math.max(...ryw.apiMs))} |`,
    );
    lines.push(
      `| waiting read reaches the app through the proxy | ${ms(percentile(ryw.proxiedMs, 0.5))} | ${ms(percentile(ryw.proxiedMs, 0.99))} | ${ms(Math.max(...ryw.proxiedMs))} |`,
    );
    console.log(`\nat end: ${loadDescription()}\n`);
    console.log(lines.join("\n"));
  } finally {
    for (const cleanup of cleanups.reverse()) await cleanup();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
