// An open-loop load at a fixed rate: request i is sent at start + i/rate whether or not earlier
// ones have been answered (autocannon's rate limit sends each second's quota in a burst, which
// measures queueing, not a steady rate). Latency = response end - send, in ms, full resolution.
import http from "node:http";

export interface FixedRateOptions {
  readonly method: "GET" | "POST";
  readonly body?: string;
  readonly rate: number;
  readonly durationMs: number;
}

export interface FixedRateResult {
  /** Latencies of the 2xx answers, in ms. */
  readonly latenciesMs: number[];
  readonly errors: number;
  /** Requests actually sent per second (the timer may fall behind on a busy machine). */
  readonly achievedRate: number;
}

export async function fixedRate(url: string, options: FixedRateOptions): Promise<FixedRateResult> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
  const total = Math.round((options.rate * options.durationMs) / 1000);
  const intervalMs = 1000 / options.rate;
  const latenciesMs: number[] = [];
  let errors = 0;
  let sent = 0;
  let settled = 0;
  const headers: http.OutgoingHttpHeaders =
    options.body === undefined
      ? {}
      : { "content-type": "application/json", "content-length": Buffer.byteLength(options.body) };
  const started = performance.now();

  return new Promise((resolve) => {
    const finish = (): void => {
      if (++settled < total) return;
      agent.destroy();
      resolve({ latenciesMs, errors, achievedRate: total / ((performance.now() - started) / 1000) });
    };
    const fire = (): void => {
      const sentAt = performance.now();
      const req = http.request(url, { method: options.method, agent, headers }, (res) => {
        res.resume();
        res.on("end", () => {
          if ((res.statusCode ?? 0) >= 200 && (res.statusCode ?? 0) < 300) latenciesMs.push(performance.now() - sentAt);
          else errors++;
          finish();
        });
      });
      req.on("error", () => {
        errors++;
        finish();
      });
      req.end(options.body);
    };
    // A 1 ms timer (no busy loop: the proxy and the app need the CPU) sends everything that is due.
    const tick = (): void => {
      const due = Math.min(total, Math.floor((performance.now() - started) / intervalMs) + 1);
      while (sent < due) {
        sent++;
        fire();
      }
      if (sent < total) setTimeout(tick, 1);
    };
    tick();
  });
}
