// "Did you mean": the known name closest to a mistyped one (Damerau-Levenshtein distance, so a
// swap of two neighbours counts as one typo), when it is close enough to be a typo.

function distance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) =>
    Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        best = Math.min(best, d[i - 2]![j - 2]! + 1);
      d[i]![j] = best;
    }
  }
  return d[a.length]![b.length]!;
}

/** The closest of `names` to `input`, or null when none is within a typo's reach (a third of its length, at least 1, at most 3). */
export function closestCommand(input: string, names: readonly string[]): string | null {
  const limit = Math.min(3, Math.max(1, Math.floor(input.length / 3)));
  let best: { name: string; d: number } | null = null;
  for (const name of names) {
    const d = distance(input.toLowerCase(), name);
    if (d <= limit && (best === null || d < best.d)) best = { name, d };
  }
  return best?.name ?? null;
}
