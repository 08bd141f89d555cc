// Mutation checks: each safety rule, switched off alone, must be caught by the simulator within
// its fixed seed budget, by one of the properties expected to catch it.
import { describe, expect, it } from "vitest";
import { MUTATIONS, runMutation } from "./mutations.js";

describe("raft mutation checks", () => {
  for (const m of MUTATIONS) {
    it(`${m.name} is caught (${m.why})`, () => {
      const outcome = runMutation(m);
      expect(outcome.found, `no violation within ${m.budget} seeds`).not.toBeNull();
      const first = outcome.found!.result.violations[0]!;
      expect(m.caughtBy).toContain(first.kind);
    });
  }
});
