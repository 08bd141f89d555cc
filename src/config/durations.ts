// Go duration strings ("1h", "10s", "1h30m", "500ms"), the format LiteFS reads for
// data.retention and proxy.max-lag. Checked here so a typo fails at startup with our message
// instead of LiteFS refusing the whole config file later. The one duration parser: the forwarding
// settings and the CLI options read durations with it too (each adds its plain-number form).

export const GO_DURATION_EXAMPLES = `"1h", "10s", "1h30m" or "500ms"`;

// Same units as Go's time.ParseDuration; both micro signs Go accepts are listed.
const UNIT_NS: Record<string, number> = {
  ns: 1,
  us: 1e3,
  "\u00b5s": 1e3,
  "\u03bcs": 1e3,
  ms: 1e6,
  s: 1e9,
  m: 60e9,
  h: 3600e9,
};

const WHOLE = /^(?:(?:\d+\.?\d*|\.\d+)(?:ns|us|\u00b5s|\u03bcs|ms|s|m|h))+$/;
const PART = /(\d+\.?\d*|\.\d+)(ns|us|\u00b5s|\u03bcs|ms|s|m|h)/g;

// Go's Duration is an int64 of nanoseconds; longer values are a parse error in LiteFS.
const MAX_NS = 2 ** 63 - 1;

/**
 * Milliseconds in a non-negative Go duration, or null when `text` is not one.
 * Negative durations are refused: no LiteFS setting we write means anything below zero.
 */
export function goDurationToMs(text: string): number | null {
  if (text === "0") return 0;
  if (!WHOLE.test(text)) return null;
  let ns = 0;
  for (const match of text.matchAll(PART)) {
    ns += Number(match[1]) * (UNIT_NS[match[2] as string] as number);
  }
  return ns > MAX_NS ? null : ns / 1e6;
}

/** Why `text` is not a duration when it uses a unit Go does not know ("5d": days are not a unit), else "". */
export function durationUnitHint(text: string): string {
  for (const match of text.matchAll(/(?:\d+\.?\d*|\.\d+)([A-Za-z\u00b5\u03bc]+)/g)) {
    const unit = match[1] as string;
    if (!Object.hasOwn(UNIT_NS, unit))
      return ` (the unit ${JSON.stringify(unit)} is not allowed: use ns, us, ms, s, m or h)`;
  }
  return "";
}

/** A problem message for `text` as a Go duration, or null when it is one. */
export function goDurationProblem(text: string): string | null {
  if (goDurationToMs(text) !== null) return null;
  return `must be a Go duration such as ${GO_DURATION_EXAMPLES} (units ns, us, ms, s, m, h; no spaces)${durationUnitHint(text)}, got ${JSON.stringify(text)}`;
}
