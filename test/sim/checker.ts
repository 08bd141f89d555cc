// Safety invariants checked while the simulation runs (incrementally, so they can run after every
// event): election safety, log matching, leader completeness, state-machine safety, and "nothing
// promised before it is durable". Entries are identified by a hash of their whole log prefix, so
// equal hashes at an index mean equal logs up to there.
import type { Entry, Message } from "../../src/raft/types.js";
import type { SimDisk } from "./disk.js";

export type ViolationKind =
  | "election-safety"
  | "log-matching"
  | "leader-completeness"
  | "state-machine-safety"
  | "durable-before-send"
  | "linearizability"
  | "liveness"
  | "disruption"
  | "stale-leader"
  | "core-error";

export interface Violation {
  readonly kind: ViolationKind;
  readonly at: number;
  readonly detail: string;
}

/** Hash of a log prefix ending with `e`, chained from the previous entry's prefix hash. */
export function chainHash(prev: number, e: Entry): number {
  let h1 = (prev ^ 0x9e3779b9) >>> 0;
  let h2 = Math.floor(prev / 0x100000000) ^ 0x85ebca6b;
  const mix = (x: number): void => {
    h1 = Math.imul(h1 ^ x, 0x01000193) >>> 0;
    h2 = Math.imul(h2 ^ x, 0x5bd1e995) >>> 0;
  };
  mix(e.index);
  mix(e.term);
  mix(e.type === "noop" ? 1 : 2);
  for (let i = 0; i < e.data.length; i++) mix(e.data[i]!);
  return (h2 & 0x1fffff) * 0x100000000 + h1;
}

interface LogPosition {
  readonly index: number;
  readonly term: number;
}

/** One log a node could campaign with (its in-memory log, or its durable log after a crash). */
export interface CandidateLog {
  readonly last: LogPosition;
  contains(index: number, term: number): boolean;
}

/** What the commit check needs to know about one node's logs. */
export interface NodeLogView {
  readonly id: string;
  readonly candidates: readonly CandidateLog[];
  /** Last position of the durable log (what it would compare against after a crash). */
  readonly durableLast: LogPosition;
}

function upToDate(cand: LogPosition, voter: LogPosition): boolean {
  return cand.term > voter.term || (cand.term === voter.term && cand.index >= voter.index);
}

export class SafetyChecker {
  readonly violations: Violation[] = [];
  private leaderOfTerm = new Map<number, string>();
  /** `${index}:${term}` -> prefix hash: the one entry that (index, term) may name. */
  private prefixes = new Map<string, number>();
  /** index -> (term, prefix hash) of the entry applied there (by anyone). */
  private applied = new Map<number, { term: number; hash: number }>();
  /** A node at term t applied index i: every leader of a term > t must hold i. */
  private appliedUnderTerm = new Map<number, number>();

  report(kind: ViolationKind, at: number, detail: string): void {
    this.violations.push({ kind, at, detail });
  }

  observeLeader(id: string, term: number, at: number): void {
    const other = this.leaderOfTerm.get(term);
    if (other === undefined) this.leaderOfTerm.set(term, id);
    else if (other !== id) this.report("election-safety", at, `two leaders in term ${term}: ${other} and ${id}`);
  }

  /** Log matching: an (index, term) pair must always name the same prefix. */
  observeEntry(node: string, index: number, term: number, hash: number, at: number): void {
    const key = `${index}:${term}`;
    const seen = this.prefixes.get(key);
    if (seen === undefined) this.prefixes.set(key, hash);
    else if (seen !== hash)
      this.report("log-matching", at, `${node} holds ${key} with a different log prefix than another node`);
  }

  prefixHash(index: number, term: number): number | undefined {
    return index === 0 ? 0 : this.prefixes.get(`${index}:${term}`);
  }

  /** State-machine safety: no two nodes apply different entries at one index. Returns true the first time `index` is applied. */
  observeApply(node: string, nodeTerm: number, index: number, term: number, hash: number, at: number): boolean {
    const seen = this.applied.get(index);
    if (seen === undefined) {
      this.applied.set(index, { term, hash });
      this.appliedUnderTerm.set(nodeTerm, Math.max(this.appliedUnderTerm.get(nodeTerm) ?? 0, index));
      return true;
    }
    if (seen.hash !== hash) {
      this.report(
        "state-machine-safety",
        at,
        `${node} applied ${index}/${term} but ${index}/${seen.term} was applied elsewhere`,
      );
    }
    return false;
  }

  /**
   * Leader completeness over every possible future election: once `index`/`term` is committed,
   * no node lacking it may have a log at least as up to date as the durable logs of a majority
   * (such a node could win a vote and overwrite it). This is the heart of Raft's leader
   * completeness proof, checked at commit time instead of waiting for an unlucky election.
   */
  checkCommitted(index: number, term: number, logs: readonly NodeLogView[], majorityCount: number, at: number): void {
    for (const x of logs) {
      for (const log of x.candidates) {
        if (log.contains(index, term)) continue;
        const cand = log.last;
        const voters = logs.filter((v) => upToDate(cand, v.durableLast)).map((v) => v.id);
        if (voters.length >= majorityCount) {
          this.report(
            "leader-completeness",
            at,
            `entry ${index}/${term} was applied as committed, but ${x.id} lacks it and its log (last ${cand.index}/${cand.term}) would win votes from ${voters.join(",")}`,
          );
          return;
        }
      }
    }
  }

  /** Leader completeness: a leader of term T holds every entry applied by a node in a term < T. */
  checkLeaderCompleteness(
    node: string,
    term: number,
    termAt: (i: number) => number | undefined,
    lastIndex: number,
    snapshotIndex: () => number,
    at: number,
  ): void {
    let need = 0;
    for (const [t, idx] of this.appliedUnderTerm) if (t < term && idx > need) need = idx;
    if (need === 0) return;
    const want = this.applied.get(need);
    const have = termAt(need);
    if (have === undefined) {
      if (need > lastIndex || need > snapshotIndex()) {
        this.report("leader-completeness", at, `leader ${node} (term ${term}) lacks committed entry ${need}`);
      }
    } else if (want && have !== want.term) {
      this.report(
        "leader-completeness",
        at,
        `leader ${node} (term ${term}) has ${need}/${have}, committed was ${need}/${want.term}`,
      );
    }
  }

  /** Votes and acks promise durable state: check it at the moment the message leaves. */
  checkDurableSend(node: string, disk: SimDisk, m: Message, at: number): void {
    const hs = disk.durable.hardState;
    if (m.type === "preVote" || m.type === "preVoteResp") return;
    if (m.term > hs.term) {
      this.report("durable-before-send", at, `${node} sent ${m.type} at term ${m.term} with durable term ${hs.term}`);
      return;
    }
    // A durable state at a later term also covers the grant (churn seed 4355: the vote for term 2
    // left after the same ready batch had persisted term 3): a node past term t can never vote in
    // t again, so the grant cannot be repeated for another candidate. Only a durable state at the
    // same term must name the candidate.
    if (m.type === "voteResp" && !m.reject && hs.term === m.term && hs.vote !== m.to) {
      this.report(
        "durable-before-send",
        at,
        `${node} granted a vote to ${m.to} in term ${m.term} before persisting it`,
      );
    }
    if (m.type === "appResp" && !m.reject && m.index > 0 && disk.durableTerm(m.index) === undefined) {
      const snap = disk.durable.snapshot?.meta.index ?? 0;
      if (m.index > snap) {
        this.report(
          "durable-before-send",
          at,
          `${node} acked index ${m.index} with durable log ending at ${disk.durableLastIndex()}`,
        );
      }
    }
  }
}
