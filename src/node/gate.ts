// The one seam between "who may write" and the SQL driver. The driver knows nothing about files,
// HTTP or Raft; a gate knows nothing about SQL.

/** Decides, synchronously and without I/O on the hot path, whether this node may write now. */
export interface WriteGate {
  /** Returns when this node may write; throws NotPrimaryError or SplitBrainError otherwise. */
  assertWritable(): void;
  /**
   * Optional, for gates that cache a verdict: forget it, so that the next assertWritable() judges
   * the state as of now. The driver calls it before it asks whether an error LiteFS raised was a
   * refusal of a write (rare; never on the hot path).
   */
  invalidate?(): void;
}

/** The gate of dev mode (`enabled: false`): a plain local SQLite file is always writable. */
export const alwaysWritableGate: WriteGate = Object.freeze({
  assertWritable(): void {},
});
