// Majority arithmetic for a static voter set.

export function majority(voterCount: number): number {
  return Math.floor(voterCount / 2) + 1;
}

/** The highest index replicated on a majority, given each voter's match index. */
export function quorumMatchIndex(matches: readonly number[]): number {
  const sorted = [...matches].sort((a, b) => b - a);
  return sorted[majority(matches.length) - 1] ?? 0;
}

export type VoteResult = "won" | "lost" | "pending";

export function tallyVotes(votes: ReadonlyMap<string, boolean>, voterCount: number): VoteResult {
  let granted = 0;
  let rejected = 0;
  for (const v of votes.values()) {
    if (v) granted++;
    else rejected++;
  }
  const need = majority(voterCount);
  if (granted >= need) return "won";
  if (rejected > voterCount - need) return "lost";
  return "pending";
}
