// A long-lived subscription to LiteFS's `GET /events`: connects, decodes the stream into typed
// events, and when the stream ends or fails reconnects, until closed or aborted. A stream that was
// healthy (events flowed for at least `stableMs`) is reopened at once: LiteFS ends the stream of a
// subscriber whose 1024-event buffer filled, and every moment without it the gate reads the slow
// mount files. Failing connects (and streams that die young) back off, capped and jittered. It never throws into the event loop: every failure (network,
// HTTP status, bad JSON, a throwing callback) goes to `onError`.
import { LiteFSError } from "../errors.js";
import { backgroundFetch, type StreamFetch } from "./background-fetch.js";
import { decodeLiteFSEvent, type LiteFSEvent } from "./events.js";
import { createJsonObjectSplitter } from "./json-stream.js";
import { backoffDelayMs, type BackoffOptions } from "../backoff.js";

export interface EventsSubscriptionOptions {
  /** LiteFS HTTP API base URL, e.g. "http://127.0.0.1:20202" (see litefsApiUrl in src/config). */
  readonly baseUrl: string;
  readonly onEvent: (event: LiteFSEvent) => void;
  /** The HTTP response arrived (200); events follow. */
  readonly onConnect?: () => void;
  /** The stream ended or failed after onConnect; `error` is null for a clean end of stream. */
  readonly onDisconnect?: (error: Error | null) => void;
  /** Anything that went wrong; the subscription carries on. */
  readonly onError?: (error: Error) => void;
  readonly signal?: AbortSignal;
  readonly backoff?: BackoffOptions;
  /**
   * A stream that delivered events and stayed open at least this long (ms) is reopened at once when
   * it ends; a shorter one counts as a failure and backs off, so a flapping server cannot make us
   * spin. Default 1000.
   */
  readonly stableMs?: number;
  /** Abort a connection attempt whose response headers take longer than this (ms). Default 5000. */
  readonly connectTimeoutMs?: number;
  /** [0, 1) source for jitter; injectable for tests. Default Math.random. */
  readonly random?: () => number;
  /** Default: a GET over node:http whose socket is unref'd (background-fetch.ts); global fetch works too. */
  readonly fetch?: StreamFetch;
}

export interface EventsSubscription {
  /** True between onConnect and onDisconnect. */
  readonly connected: boolean;
  /** Connection attempts so far (1 after the first). */
  readonly attempts: number;
  /** Stops for good: aborts the stream or the pending retry; resolves when nothing is left running. */
  close(): Promise<void>;
}

function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}

export function subscribeEvents(options: EventsSubscriptionOptions): EventsSubscription {
  // Background work: neither the stream's socket nor the retry and connect timers keep the
  // process alive; whoever waits for something (node.ready, waitForTxid) holds its own timer.
  const fetchImpl = options.fetch ?? backgroundFetch;
  const random = options.random ?? Math.random;
  const connectTimeoutMs = options.connectTimeoutMs ?? 5000;
  const stableMs = options.stableMs ?? 1000;
  const url = new URL("/events", options.baseUrl).toString();
  const stop = new AbortController();
  let connected = false;
  let attempts = 0;
  // Failed attempts in a row (a connect that failed, or a stream that died young); reset by a stable stream.
  let failures = 0;

  // Callbacks are user code: a throw there must not kill the subscription or escape to the loop.
  function report(error: unknown): void {
    if (!options.onError) return;
    try {
      options.onError(asError(error));
    } catch {
      // An error handler that throws has nowhere left to report to.
    }
  }
  function call<A extends unknown[]>(fn: ((...args: A) => void) | undefined, ...args: A): void {
    if (!fn) return;
    try {
      fn(...args);
    } catch (error) {
      report(error);
    }
  }

  const onExternalAbort = (): void => stop.abort();
  if (options.signal) {
    if (options.signal.aborted) stop.abort();
    else options.signal.addEventListener("abort", onExternalAbort, { once: true });
  }

  function sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      if (stop.signal.aborted) return resolve();
      const timer = setTimeout(done, ms);
      timer.unref();
      function done(): void {
        clearTimeout(timer);
        stop.signal.removeEventListener("abort", done);
        resolve();
      }
      stop.signal.addEventListener("abort", done, { once: true });
    });
  }

  /** One connection: resolves when the stream is over (never rejects), true when it was stable. */
  async function connectOnce(): Promise<boolean> {
    attempts++;
    const attempt = new AbortController();
    const abortAttempt = (): void => attempt.abort();
    stop.signal.addEventListener("abort", abortAttempt, { once: true });
    const connectTimer = setTimeout(
      () => attempt.abort(new LiteFSError("LITEFS_TIMEOUT", `no response from ${url} within ${connectTimeoutMs} ms`)),
      connectTimeoutMs,
    );
    connectTimer.unref();
    let streamError: Error | null = null;
    let connectedAt = 0;
    let delivered = false;
    try {
      const response = await fetchImpl(url, { signal: attempt.signal, headers: { accept: "application/json" } });
      clearTimeout(connectTimer);
      if (response.status !== 200 || !response.body) {
        await response.body?.cancel().catch(() => undefined);
        report(new LiteFSError("LITEFS_API", `LiteFS ${url} answered HTTP ${response.status}`));
        return false;
      }
      connected = true;
      connectedAt = performance.now();
      call(options.onConnect);
      const decoder = new TextDecoder();
      const splitter = createJsonObjectSplitter({
        object(text) {
          let decoded: LiteFSEvent | null;
          try {
            decoded = decodeLiteFSEvent(JSON.parse(text));
          } catch (error) {
            report(
              error instanceof LiteFSError
                ? error
                : new LiteFSError("LITEFS_API", `invalid JSON on ${url}: ${asError(error).message}`),
            );
            return;
          }
          delivered = true;
          if (decoded) call(options.onEvent, decoded);
        },
        junk(message) {
          report(new LiteFSError("LITEFS_API", `${url}: ${message}`));
        },
      });
      const reader: ReadableStreamDefaultReader<Uint8Array> = response.body.getReader();
      try {
        for (;;) {
          const { done, value } = await reader.read();
          if (done) break;
          splitter.push(decoder.decode(value, { stream: true }));
        }
        splitter.push(decoder.decode());
        if (splitter.partial) streamError = new LiteFSError("LITEFS_API", `${url}: stream ended inside a JSON object`);
      } finally {
        reader.releaseLock();
      }
    } catch (error) {
      if (!stop.signal.aborted) {
        streamError = attempt.signal.reason instanceof LiteFSError ? attempt.signal.reason : asError(error);
        if (!connected)
          report(new LiteFSError("LITEFS_API", `cannot connect to ${url}: ${describe(error)}`, { cause: error }));
      }
    } finally {
      clearTimeout(connectTimer);
      stop.signal.removeEventListener("abort", abortAttempt);
      attempt.abort();
      if (connected) {
        connected = false;
        if (streamError && !stop.signal.aborted) report(streamError);
        call(options.onDisconnect, stop.signal.aborted ? null : streamError);
      }
    }
    return delivered && performance.now() - connectedAt >= stableMs;
  }

  async function run(): Promise<void> {
    while (!stop.signal.aborted) {
      const stable = await connectOnce();
      if (stop.signal.aborted) break;
      if (stable) {
        // A healthy stream ended (LiteFS drops a subscriber whose buffer filled): back at once.
        failures = 0;
        continue;
      }
      failures++;
      await sleep(backoffDelayMs(failures, options.backoff, random));
    }
    options.signal?.removeEventListener("abort", onExternalAbort);
  }

  const running = run().catch(report);

  return {
    get connected() {
      return connected;
    },
    get attempts() {
      return attempts;
    },
    close() {
      stop.abort();
      return running;
    },
  };
}

// fetch wraps network failures as "fetch failed" with the useful part in `cause`.
function describe(error: unknown): string {
  const e = asError(error);
  const cause = (e as { cause?: unknown }).cause;
  return cause instanceof Error ? `${e.message}: ${cause.message}` : e.message;
}
