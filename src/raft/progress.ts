// The leader's view of one follower's log (etcd's Progress, without flow-control windows).
// probe: one append in flight until an answer or heartbeat response; replicate: stream
// optimistically; snapshot: a snapshot is in flight, appends wait.

export type ProgressState = "probe" | "replicate" | "snapshot";

export class Progress {
  match = 0;
  next: number;
  state: ProgressState = "probe";
  /** probe: an append is outstanding, wait for its answer or the next heartbeat response. */
  paused = false;
  pendingSnapshot = 0;
  /** Leader tick of the last response from this follower (CheckQuorum). */
  lastActiveTick = 0;

  constructor(next: number) {
    this.next = next;
  }

  /** A successful append response up to `n`. Returns whether match moved. */
  maybeUpdate(n: number): boolean {
    let updated = false;
    if (this.match < n) {
      this.match = n;
      this.paused = false;
      updated = true;
    }
    this.next = Math.max(this.next, n + 1);
    return updated;
  }

  /** A rejection of the append whose prevLogIndex was `rejected`. Returns false for stale answers. */
  maybeDecrTo(rejected: number, hint: number): boolean {
    if (this.state === "replicate") {
      if (rejected <= this.match) return false;
      this.next = this.match + 1;
      return true;
    }
    if (this.next - 1 !== rejected) return false;
    this.next = Math.max(Math.min(rejected, hint + 1), this.match + 1, 1);
    this.paused = false;
    return true;
  }

  becomeProbe(): void {
    this.state = "probe";
    this.next = this.match + 1;
    this.paused = false;
    this.pendingSnapshot = 0;
  }

  becomeReplicate(): void {
    this.state = "replicate";
    this.next = this.match + 1;
    this.paused = false;
    this.pendingSnapshot = 0;
  }

  becomeSnapshot(index: number): void {
    this.state = "snapshot";
    this.pendingSnapshot = index;
    this.paused = true;
  }

  isPaused(): boolean {
    return this.state === "snapshot" || (this.state === "probe" && this.paused);
  }
}
