// A simulation scenario: cluster shape, network quality and a timed list of faults. Generated
// from a seed (reproducible from that number alone) or by fast-check (which can shrink the fault
// list of a failing scenario). Everything else random in a run comes from `seed`.
import fc from "fast-check";
import { createRng, type Rng } from "./prng.js";

export type Fault =
  | { readonly kind: "partition"; readonly groups: readonly (readonly number[])[] } // symmetric
  | { readonly kind: "cut"; readonly from: number; readonly to: number } // one-way
  | { readonly kind: "heal" }
  | { readonly kind: "crash"; readonly node: number }
  | { readonly kind: "restart"; readonly node: number }
  | { readonly kind: "pause"; readonly node: number; readonly ms: number }
  | { readonly kind: "loss"; readonly rate: number }
  | { readonly kind: "duplicate"; readonly rate: number }
  // Nemesis faults aimed at whoever leads when they fire (no-ops without a leader).
  | { readonly kind: "crash-leader" }
  | { readonly kind: "isolate-leader" };

interface TimedFault {
  readonly at: number;
  readonly fault: Fault;
}

export interface Scenario {
  readonly seed: number;
  readonly nodes: number;
  /** Virtual ms of chaos; then everything heals and liveness is checked. */
  readonly chaosMs: number;
  readonly faults: readonly TimedFault[];
  /** Entries per append message (small values split catch-up, as in Figure 8). */
  readonly maxEntriesPerMessage: number;
  /** Compact when this many entries were applied since the last snapshot. */
  readonly compactEvery: number;
  readonly clients: number;
}

export interface Profile {
  readonly chaosMs: number;
  /** Mean virtual ms between faults. */
  readonly faultEveryMs: number;
  /** Relative weights of fault kinds. */
  readonly weights: Readonly<Record<Fault["kind"], number>>;
  readonly nodeCounts: readonly number[];
  /** Choices for entries per append message. */
  readonly maxEntries?: readonly number[];
  /** Choices for a "loss" fault's rate. */
  readonly lossRates?: readonly number[];
}

export const DEFAULT_PROFILE: Profile = {
  chaosMs: 2500,
  faultEveryMs: 180,
  weights: {
    partition: 3,
    cut: 2,
    heal: 3,
    crash: 3,
    restart: 3,
    pause: 2,
    loss: 1,
    duplicate: 1,
    "crash-leader": 2,
    "isolate-leader": 2,
  },
  nodeCounts: [3, 3, 5],
};

export function generateScenario(seed: number, profile: Profile = DEFAULT_PROFILE): Scenario {
  const rng = createRng(seed ^ 0x5eed);
  const nodes = rng.pick(profile.nodeCounts);
  const faults: TimedFault[] = [];
  for (
    let at = rng.int(50, profile.faultEveryMs * 2);
    at < profile.chaosMs;
    at += rng.int(20, profile.faultEveryMs * 2)
  ) {
    faults.push({ at, fault: randomFault(rng, nodes, profile) });
  }
  return {
    seed,
    nodes,
    chaosMs: profile.chaosMs,
    faults,
    maxEntriesPerMessage: rng.pick(profile.maxEntries ?? [1, 2, 4, 64]),
    compactEvery: rng.pick([8, 16, 32, 1000]),
    clients: rng.int(1, 4),
  };
}

function randomFault(rng: Rng, nodes: number, profile: Profile): Fault {
  const kinds = Object.keys(profile.weights) as Fault["kind"][];
  const total = kinds.reduce((s, k) => s + profile.weights[k], 0);
  let r = rng.next() * total;
  let kind: Fault["kind"] = "heal";
  for (const k of kinds) {
    r -= profile.weights[k];
    if (r < 0) {
      kind = k;
      break;
    }
  }
  const node = rng.int(0, nodes);
  const lossRates = profile.lossRates ?? [0, 0, 0.05, 0.2];
  switch (kind) {
    case "partition": {
      const groups: number[][] = [[], []];
      for (let n = 0; n < nodes; n++) groups[rng.int(0, 2)]!.push(n);
      return { kind, groups: groups.filter((g) => g.length > 0) };
    }
    case "cut": {
      const to = (node + rng.int(1, nodes)) % nodes;
      return { kind, from: node, to };
    }
    case "pause":
      return { kind, node, ms: rng.int(20, 600) };
    case "loss":
      return { kind, rate: rng.pick(lossRates) };
    case "duplicate":
      return { kind, rate: rng.pick([0, 0.05, 0.2]) };
    case "crash":
    case "restart":
      return { kind, node };
    case "heal":
    case "crash-leader":
    case "isolate-leader":
      return { kind };
  }
}

/** fast-check arbitrary over scenarios: shrinking drops and simplifies faults, keeps the seed. */
export function scenarioArbitrary(profile: Profile = DEFAULT_PROFILE): fc.Arbitrary<Scenario> {
  return fc
    .record({
      seed: fc.integer({ min: 0, max: 0x7fffffff }),
      nodes: fc.constantFrom(...profile.nodeCounts),
      maxEntriesPerMessage: fc.constantFrom(64, 4, 2, 1),
      compactEvery: fc.constantFrom(1000, 32, 16, 8),
      clients: fc.integer({ min: 1, max: 3 }),
      raw: fc.array(
        fc.record({
          at: fc.integer({ min: 0, max: profile.chaosMs - 1 }),
          kind: fc.constantFrom<Fault["kind"]>(
            "heal",
            "crash",
            "restart",
            "partition",
            "cut",
            "pause",
            "loss",
            "duplicate",
            "crash-leader",
            "isolate-leader",
          ),
          a: fc.nat(),
          b: fc.nat(),
          mask: fc.nat(),
        }),
        { maxLength: 30 },
      ),
    })
    .map(({ raw, ...rest }) => ({
      ...rest,
      chaosMs: profile.chaosMs,
      faults: raw
        .map((r) => ({ at: r.at, fault: faultFrom(r.kind, r.a, r.b, r.mask, rest.nodes) }))
        .sort((x, y) => x.at - y.at),
    }));
}

function faultFrom(kind: Fault["kind"], a: number, b: number, mask: number, nodes: number): Fault {
  const node = a % nodes;
  switch (kind) {
    case "partition": {
      const left: number[] = [];
      const right: number[] = [];
      for (let n = 0; n < nodes; n++) ((mask >> n) & 1 ? left : right).push(n);
      return { kind, groups: [left, right].filter((g) => g.length > 0) };
    }
    case "cut":
      return { kind, from: node, to: (node + 1 + (b % (nodes - 1))) % nodes };
    case "pause":
      return { kind, node, ms: 20 + (b % 600) };
    case "loss":
      return { kind, rate: [0, 0.05, 0.2][b % 3]! };
    case "duplicate":
      return { kind, rate: [0, 0.05, 0.2][b % 3]! };
    case "crash":
    case "restart":
      return { kind, node };
    case "heal":
    case "crash-leader":
    case "isolate-leader":
      return { kind };
  }
}
