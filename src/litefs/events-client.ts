// A long-lived subscription to LiteFS's `GET /events`: connects, decodes the stream into typed
// events, and when the stream ends or fails reconnects, until closed or aborted. A stream that was
// healthy (events flowed for at least `stableMs`) is reopened at once: LiteFS ends the stream of a
// subscriber whose 1024-event buffer filled, and every moment without it the gate reads the slow
// mount files. Failing connects (and streams that die young) back off, capped and jittered. It never throws into the event loop: every failure (network,
// HTTP status, bad JSON, a throwing callback) goes to `onError`.
import { LiteFSError } from "../errors.js";
import { backgroundFetch, type StreamFetch } from "./background-fetch.js";
import type { LiteFSEvent } from "./events.js";
import { readEventStream } from "./events-stream.js";
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
  return new EventsSubscriber(options);
}

/** Reports and calls user callbacks: a throw there must not kill the subscription or escape to the loop. */
class GuardedCallbacks {
  readonly #onError: ((error: Error) => void) | undefined;

  constructor(onError: ((error: Error) => void) | undefined) {
    this.#onError = onError;
  }

  report(error: unknown): void {
    if (!this.#onError) return;
    try {
      this.#onError(asError(error));
    } catch {
      // An error handler that throws has nowhere left to report to.
    }
  }

  call<A extends unknown[]>(fn: ((...args: A) => void) | undefined, ...args: A): void {
    if (!fn) return;
    try {
      fn(...args);
    } catch (error) {
      this.report(error);
    }
  }
}

/** Waits `ms` with an unref'd timer, or less when `signal` aborts first. */
function sleepUnlessAborted(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    timer.unref();
    function done(): void {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    }
    signal.addEventListener("abort", done, { once: true });
  });
}

class EventsSubscriber implements EventsSubscription {
  // Background work: neither the stream's socket nor the retry and connect timers keep the
  // process alive; whoever waits for something (node.ready, waitForTxid) holds its own timer.
  readonly #fetch: StreamFetch;
  readonly #url: string;
  readonly #stop = new AbortController();
  readonly #callbacks: GuardedCallbacks;
  readonly #running: Promise<void>;
  readonly #onExternalAbort = (): void => this.#stop.abort();
  #connected = false;
  #attempts = 0;
  // Failed attempts in a row (a connect that failed, or a stream that died young); reset by a stable stream.
  #failures = 0;

  readonly #options: EventsSubscriptionOptions;

  constructor(options: EventsSubscriptionOptions) {
    this.#options = options;
    this.#fetch = options.fetch ?? backgroundFetch;
    this.#url = new URL("/events", options.baseUrl).toString();
    this.#callbacks = new GuardedCallbacks(options.onError);
    if (options.signal) {
      if (options.signal.aborted) this.#stop.abort();
      else options.signal.addEventListener("abort", this.#onExternalAbort, { once: true });
    }
    this.#running = this.#run().catch((error: unknown) => this.#callbacks.report(error));
  }

  get connected(): boolean {
    return this.#connected;
  }

  get attempts(): number {
    return this.#attempts;
  }

  close(): Promise<void> {
    this.#stop.abort();
    return this.#running;
  }

  async #run(): Promise<void> {
    const stop = this.#stop.signal;
    while (!stop.aborted) {
      const stable = await this.#connectOnce();
      if (stop.aborted) break;
      if (stable) {
        // A healthy stream ended (LiteFS drops a subscriber whose buffer filled): back at once.
        this.#failures = 0;
        continue;
      }
      this.#failures++;
      await sleepUnlessAborted(
        backoffDelayMs(this.#failures, this.#options.backoff, this.#options.random ?? Math.random),
        stop,
      );
    }
    this.#options.signal?.removeEventListener("abort", this.#onExternalAbort);
  }

  /** One connection: resolves when the stream is over (never rejects), true when it was stable. */
  async #connectOnce(): Promise<boolean> {
    const options = this.#options;
    const url = this.#url;
    const stop = this.#stop.signal;
    const callbacks = this.#callbacks;
    const connectTimeoutMs = options.connectTimeoutMs ?? 5000;
    this.#attempts++;
    const attempt = new AbortController();
    const abortAttempt = (): void => attempt.abort();
    stop.addEventListener("abort", abortAttempt, { once: true });
    const connectTimer = setTimeout(
      () => attempt.abort(new LiteFSError("LITEFS_TIMEOUT", `no response from ${url} within ${connectTimeoutMs} ms`)),
      connectTimeoutMs,
    );
    connectTimer.unref();
    let streamError: Error | null = null;
    let connectedAt = 0;
    let delivered = false;
    try {
      const response = await this.#fetch(url, { signal: attempt.signal, headers: { accept: "application/json" } });
      clearTimeout(connectTimer);
      if (response.status !== 200 || !response.body) {
        await response.body?.cancel().catch(() => undefined);
        callbacks.report(new LiteFSError("LITEFS_API", `LiteFS ${url} answered HTTP ${response.status}`));
        return false;
      }
      this.#connected = true;
      connectedAt = performance.now();
      callbacks.call(options.onConnect);
      streamError = await readEventStream(response.body, url, {
        decoded: (event) => {
          delivered = true;
          if (event) callbacks.call(options.onEvent, event);
        },
        report: (error) => callbacks.report(error),
      });
    } catch (error) {
      if (!stop.aborted) {
        streamError = attempt.signal.reason instanceof LiteFSError ? attempt.signal.reason : asError(error);
        if (!this.#connected)
          callbacks.report(
            new LiteFSError("LITEFS_API", `cannot connect to ${url}: ${describe(error)}`, { cause: error }),
          );
      }
    } finally {
      clearTimeout(connectTimer);
      stop.removeEventListener("abort", abortAttempt);
      attempt.abort();
      if (this.#connected) {
        this.#connected = false;
        if (streamError && !stop.aborted) callbacks.report(streamError);
        callbacks.call(options.onDisconnect, stop.aborted ? null : streamError);
      }
    }
    return delivered && performance.now() - connectedAt >= (options.stableMs ?? 1000);
  }
}

// fetch wraps network failures as "fetch failed" with the useful part in `cause`.
function describe(error: unknown): string {
  const e = asError(error);
  const cause = (e as { cause?: unknown }).cause;
  return cause instanceof Error ? `${e.message}: ${cause.message}` : e.message;
}
