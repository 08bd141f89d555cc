// What this node may do about migrations, asked of the LiteFSNode's write gate, the same
// judgement every guarded write gets (LiteFS's view + the election): never guessed from files.
import { NotPrimaryError, SplitBrainError } from "../src/errors.js";
import type { LiteFSNode } from "../src/node/node.js";

export type MigrationRole =
  | { readonly kind: "primary" }
  /** A replica with a known primary: the primary migrates, LiteFS replicates. */
  | { readonly kind: "replica"; readonly primary: string | null; readonly refusal: NotPrimaryError }
  /** No primary known (primary down, partition) or the node's state is unreadable. */
  | { readonly kind: "no-primary"; readonly refusal: NotPrimaryError };

/** Judges the node now. Throws SplitBrainError (and anything unexpected the gate throws). */
export function judgeMigrationRole(node: LiteFSNode): MigrationRole {
  try {
    node.gate.assertWritable();
    return { kind: "primary" };
  } catch (error) {
    if (error instanceof SplitBrainError) throw error;
    if (!(error instanceof NotPrimaryError)) throw error;
    if (error.reason === "replica") return { kind: "replica", primary: error.primary, refusal: error };
    return { kind: "no-primary", refusal: error };
  }
}
