// The handoff drain file: how a planned handoff closes the write gate of every app process on
// this host before LiteFS moves the primary. The process doing the handoff (`litefs-node run` on
// SIGTERM, or `litefs-node handoff`) writes it; the raft-mode gate of each app process reads it
// next to the lease state file and refuses writes with NotPrimaryError (reason "handoff") while it
// is there and not expired. It carries an absolute process.hrtime deadline (CLOCK_MONOTONIC, the
// same clock for every process on the host), so a handoff process that dies mid-way closes the
// gate for a bounded time only. It sits next to the mount, never inside it (LiteFS would refuse it).

import { readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { basename, dirname, join } from "node:path";

export interface HandoffDrain {
  readonly v: 1;
  readonly pid: number;
  /** The node the primary is being handed to, when chosen. */
  readonly target: string | null;
  /** process.hrtime.bigint() after which the drain no longer counts, as a decimal string. */
  readonly untilNs: string;
}

export function handoffDrainPath(mountPath: string): string {
  return join(dirname(mountPath), `.${basename(mountPath)}.handoff.json`);
}

/** Closes the gates on this host until `untilNs` (or until clearHandoffDrain). Atomic. */
export function writeHandoffDrain(path: string, drain: Omit<HandoffDrain, "v" | "pid">): void {
  const temp = `${path}.${process.pid}.tmp`;
  writeFileSync(temp, JSON.stringify({ v: 1, pid: process.pid, ...drain } satisfies HandoffDrain) + "\n");
  renameSync(temp, path);
}

export function clearHandoffDrain(path: string): void {
  rmSync(path, { force: true });
}

/** The drain in force at `nowNs`, or null (no file, expired, or unreadable: a drain that cannot be read does not close the gate). */
export function activeHandoffDrain(path: string, nowNs: bigint): HandoffDrain | null {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch {
    return null;
  }
  try {
    const d = JSON.parse(text) as Partial<HandoffDrain>;
    if (d.v !== 1 || typeof d.untilNs !== "string" || !/^\d+$/.test(d.untilNs)) return null;
    return nowNs < BigInt(d.untilNs) ? (d as HandoffDrain) : null;
  } catch {
    return null;
  }
}
