// Retry delays for reconnecting clients (LiteFS's /events stream, Raft peers): capped exponential
// with "equal jitter" (half fixed, half random), so peers restarted together do not retry in lockstep.

export interface BackoffOptions {
  /** Delay before the first reconnect (ms). Default 100. */
  readonly initialMs?: number;
  /** Upper bound of the delay (ms). Default 5000. */
  readonly maxMs?: number;
  /** Growth factor per failed attempt. Default 2. */
  readonly factor?: number;
}

// Past this many doublings the delay is at its cap anyway; bounding the exponent keeps it finite.
const MAX_EXPONENT = 1000;

/** Delay before retry number `failures` (1-based): capped exponential, "equal jitter" (half fixed, half random). */
export function backoffDelayMs(
  failures: number,
  options: BackoffOptions = {},
  random: () => number = Math.random,
): number {
  const initial = options.initialMs ?? 100;
  const max = options.maxMs ?? 5000;
  const factor = options.factor ?? 2;
  const ceiling = Math.min(max, initial * factor ** Math.min(MAX_EXPONENT, Math.max(0, failures - 1)));
  return ceiling / 2 + (ceiling / 2) * random();
}
