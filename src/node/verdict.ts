// Pure judgement: LiteFS's view + the election -> may this node write, and if not, why.
// Verdicts are computed when the view changes, not per write; the writable verdict is a shared
// constant so the hot path neither allocates nor compares anything but identity.
import { NotPrimaryError, SplitBrainError, type NotPrimaryReason } from "../errors.js";
import type { LiteFSView } from "../litefs/view.js";
import type { ElectionView } from "../election/election-view.js";

export type Verdict =
  | { readonly kind: "writable" }
  | {
      readonly kind: "not-primary";
      readonly reason: NotPrimaryReason;
      readonly primary: string | null;
      readonly detail?: string;
    }
  | { readonly kind: "split-brain"; readonly reason: string; readonly primary: string | null };

export const WRITABLE: Verdict = Object.freeze({ kind: "writable" });

export function judge(view: LiteFSView, election: ElectionView): Verdict {
  const contradiction = election.contradiction(view);
  if (contradiction) return { kind: "split-brain", reason: contradiction.reason, primary: contradiction.primary };
  switch (view.kind) {
    case "primary": {
      const refusal = election.primaryRefusal?.(view);
      return refusal
        ? { kind: "not-primary", reason: refusal.reason, primary: refusal.primary, detail: refusal.detail }
        : WRITABLE;
    }
    case "replica":
      return { kind: "not-primary", reason: "replica", primary: view.primary };
    case "no-primary":
      return { kind: "not-primary", reason: "no-primary", primary: null };
    case "unknown":
      return { kind: "not-primary", reason: "unknown", primary: null, detail: view.detail };
  }
}

/** The error a refused write throws (a fresh one each time, so its stack points at the caller). */
export function verdictError(
  verdict: Extract<Verdict, { kind: "split-brain" }>,
  nodeId: string | null,
): SplitBrainError;
export function verdictError(verdict: Verdict, nodeId: string | null): NotPrimaryError | SplitBrainError;
export function verdictError(verdict: Verdict, nodeId: string | null): NotPrimaryError | SplitBrainError {
  switch (verdict.kind) {
    case "split-brain":
      return new SplitBrainError({ nodeId, primary: verdict.primary, reason: verdict.reason });
    case "not-primary":
      return new NotPrimaryError({ nodeId, primary: verdict.primary, reason: verdict.reason, detail: verdict.detail });
    case "writable":
      throw new TypeError("verdictError called with a writable verdict");
  }
}
