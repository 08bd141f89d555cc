// Test-only switches, one per safety rule, for mutation checks: turning one off must make the
// simulator find a violation (proving the invariants bite). Production code never sets them.
// Why they live in shipped code: the mutation check has to switch a rule off in the very RaftCore
// that ships; a test-only copy of the core would prove the checks bite on the copy, not on this.
// They are injected per instance (RaftConfig.knobs, a constructor option), are in no setting and
// not in the package's exports, and a missing one is the safe value (resolveKnobs).
// PreVote and CheckQuorum are ordinary RaftConfig flags (`preVote`, `checkQuorum`) and double as
// their own switches.

export interface SafetyKnobs {
  /** Follower rejects an append whose prevLogTerm does not match (not only a missing prevLogIndex). */
  readonly prevLogTermCheck: boolean;
  /** Leader commits by counting replicas only entries of its own term (Raft paper, Figure 8). */
  readonly currentTermCommitOnly: boolean;
  /** Votes go only to candidates whose log is at least as up to date (last term, then index). */
  readonly electionRestriction: boolean;
  /** ReadIndex confirms leadership with a heartbeat quorum before answering. */
  readonly readIndexQuorum: boolean;
  /**
   * Messages of a Ready are sent only after its state is durable. The core cannot enforce this
   * (the host does the I/O); the flag is carried here so hosts (runner, simulator) read one switch.
   */
  readonly fsyncBeforeSend: boolean;
}

const SAFE_KNOBS: SafetyKnobs = Object.freeze({
  prevLogTermCheck: true,
  currentTermCommitOnly: true,
  electionRestriction: true,
  readIndexQuorum: true,
  fsyncBeforeSend: true,
});

export function resolveKnobs(partial: Partial<SafetyKnobs> | undefined): SafetyKnobs {
  return Object.freeze({ ...SAFE_KNOBS, ...(partial ?? {}) });
}
