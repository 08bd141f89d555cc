// Mutation checks: switch one safety rule off and the simulator must find a violation within a
// fixed seed budget, proving the invariants bite. Each check names the property that catches it
// (for PreVote and CheckQuorum these are honest liveness/availability properties, not safety:
// Raft stays safe without them, it just gets disrupted or keeps a useless leader).
import type { ViolationKind } from "./checker.js";
import { DEFAULT_PROFILE, generateScenario, type Profile } from "./scenario.js";
import { simulate, type SimOptions, type SimResult } from "./simulator.js";

/** Leader churn: crash or isolate whoever leads, lossy links, one entry per append message. */
export const CHURN_PROFILE: Profile = {
  ...DEFAULT_PROFILE,
  nodeCounts: [3],
  faultEveryMs: 80,
  maxEntries: [1],
  lossRates: [0.1, 0.3, 0.5],
  weights: {
    partition: 1,
    cut: 1,
    heal: 2,
    crash: 1,
    restart: 5,
    pause: 1,
    loss: 2,
    duplicate: 0,
    "crash-leader": 4,
    "isolate-leader": 3,
  },
};

/** Process pauses dominate: a frozen leader wakes up after others moved on. */
export const PAUSE_PROFILE: Profile = {
  ...DEFAULT_PROFILE,
  nodeCounts: [3],
  weights: {
    partition: 1,
    cut: 1,
    heal: 2,
    crash: 0,
    restart: 0,
    pause: 6,
    loss: 0,
    duplicate: 0,
    "crash-leader": 0,
    "isolate-leader": 0,
  },
};

export interface MutationCheck {
  readonly name: string;
  readonly options: SimOptions;
  readonly profile: Profile;
  readonly budget: number;
  /** Properties allowed to catch this mutation. */
  readonly caughtBy: readonly ViolationKind[];
  readonly why: string;
}

export const MUTATIONS: readonly MutationCheck[] = [
  {
    name: "prevLogTerm check off",
    options: { knobs: { prevLogTermCheck: false } },
    profile: CHURN_PROFILE,
    budget: 300,
    caughtBy: ["log-matching", "state-machine-safety", "leader-completeness", "core-error"],
    why: "a follower accepts entries after a prevLogIndex whose term differs: logs diverge",
  },
  {
    name: "Figure-8 current-term commit rule off",
    options: { knobs: { currentTermCommitOnly: false } },
    profile: CHURN_PROFILE,
    budget: 500,
    caughtBy: ["leader-completeness", "state-machine-safety", "core-error"],
    why: "an earlier-term entry counted onto a majority is applied while a node lacking it can still be elected",
  },
  {
    name: "fsync before send off",
    options: { knobs: { fsyncBeforeSend: false } },
    profile: DEFAULT_PROFILE,
    budget: 50,
    caughtBy: ["durable-before-send"],
    why: "votes and append acks leave before the state they promise is on disk; a crash then forgets them",
  },
  {
    name: "election restriction off",
    options: { knobs: { electionRestriction: false } },
    profile: CHURN_PROFILE,
    budget: 300,
    caughtBy: ["leader-completeness", "state-machine-safety", "log-matching", "core-error"],
    why: "a candidate missing committed entries can win",
  },
  {
    name: "ReadIndex quorum confirmation off",
    options: { knobs: { readIndexQuorum: false } },
    profile: PAUSE_PROFILE,
    budget: 300,
    caughtBy: ["linearizability"],
    why: "a leader frozen while the others elected a new one answers a read from its stale commit index",
  },
  {
    name: "PreVote off",
    options: { preVote: false },
    profile: DEFAULT_PROFILE,
    budget: 300,
    caughtBy: ["disruption"],
    why: "a node that was cut off comes back with a higher term and deposes a leader whose majority was healthy",
  },
  {
    name: "CheckQuorum off",
    options: { checkQuorum: false },
    profile: DEFAULT_PROFILE,
    budget: 100,
    caughtBy: ["stale-leader"],
    why: "an isolated leader keeps claiming leadership long after it lost its majority",
  },
];

export interface MutationOutcome {
  readonly check: MutationCheck;
  readonly found: { seed: number; result: SimResult } | null;
  readonly seedsRun: number;
}

export function runMutation(check: MutationCheck): MutationOutcome {
  for (let seed = 1; seed <= check.budget; seed++) {
    const result = simulate(generateScenario(seed, check.profile), check.options);
    if (result.violations.length > 0) return { check, found: { seed, result }, seedsRun: seed };
  }
  return { check, found: null, seedsRun: check.budget };
}
