// A WriteGate whose state a test flips by hand. It throws the real errors a node's gate throws, so
// driver tests exercise exactly what production code sees; it just has no mount or event stream
// behind it (the behaviour matrix uses the real node gate over temp mount dirs for that).

import { NotPrimaryError, SplitBrainError } from "../../src/errors.js";
import type { WriteGate } from "../../src/election/gate.js";

export type SwitchState = "primary" | "replica" | "no-primary" | "split-brain";

export class SwitchGate implements WriteGate {
  state: SwitchState;
  /** How many times assertWritable() was called (tests check the guard ran, or did not). */
  checks = 0;

  constructor(
    state: SwitchState = "primary",
    readonly nodeId: string = "node-b",
    readonly primaryHost: string = "node-a",
  ) {
    this.state = state;
  }

  assertWritable(): void {
    this.checks++;
    switch (this.state) {
      case "primary":
        return;
      case "replica":
        throw new NotPrimaryError({ nodeId: this.nodeId, primary: this.primaryHost, reason: "replica" });
      case "no-primary":
        throw new NotPrimaryError({ nodeId: this.nodeId, primary: null, reason: "no-primary" });
      case "split-brain":
        throw new SplitBrainError({
          nodeId: this.nodeId,
          primary: this.primaryHost,
          reason: `LiteFS says this node is primary but the election names "${this.primaryHost}"`,
        });
    }
  }
}
