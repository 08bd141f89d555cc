// The lease state file: how the lease service tells the app processes on its host whether this
// node holds the lease and until when. It sits next to the LiteFS mount (never inside the FUSE
// mount: LiteFS would replicate or refuse it): `<dirname(mountPath)>/.<basename(mountPath)>.lease.json`.
// Written atomically (temp + rename) so a reader never sees half a file; no fsync, since it
// describes the running process only and is rewritten every probe.

import { readFileSync, renameSync, writeFileSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import type { PublishedLeaseState } from "./types.js";

export function leaseStatePath(mountPath: string): string {
  return join(dirname(mountPath), `.${basename(mountPath)}.lease.json`);
}

export function writeLeaseState(path: string, state: PublishedLeaseState): void {
  const temp = `${path}.${process.pid}.tmp`;
  writeFileSync(temp, JSON.stringify(state) + "\n");
  renameSync(temp, path);
}

export type LeaseStateReading =
  { readonly ok: true; readonly state: PublishedLeaseState } | { readonly ok: false; readonly problem: string };

const isNs = (v: unknown): boolean => typeof v === "string" && /^\d+$/.test(v);

/** Parses the file's text; never throws. */
function parseLeaseState(text: string): LeaseStateReading {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    return { ok: false, problem: `lease state is not JSON: ${(e as Error).message}` };
  }
  const s = raw as Partial<PublishedLeaseState> | null;
  if (!s || typeof s !== "object" || s.v !== 1) return { ok: false, problem: "lease state has an unknown version" };
  if (typeof s.holder !== "boolean" || typeof s.refused !== "boolean" || typeof s.graceMs !== "number") {
    return { ok: false, problem: "lease state lacks holder/refused/graceMs" };
  }
  if (
    !(s.deadlineNs === null || isNs(s.deadlineNs)) ||
    !(s.contactNs === null || isNs(s.contactNs)) ||
    !isNs(s.updatedNs)
  ) {
    return { ok: false, problem: "lease state has malformed times" };
  }
  return { ok: true, state: s as PublishedLeaseState };
}

export function readLeaseState(path: string): LeaseStateReading {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    return {
      ok: false,
      problem:
        code === "ENOENT"
          ? `no lease state at ${path} (is the lease service running?)`
          : `cannot read ${path}: ${(e as Error).message}`,
    };
  }
  return parseLeaseState(text);
}

/**
 * Why this node must not write although LiteFS says it is primary, or null when the published
 * state backs it. `nowNs` = process.hrtime.bigint() (same clock as the file's times).
 */
export function leaseProblem(reading: LeaseStateReading, nowNs: bigint): string | null {
  if (!reading.ok) return reading.problem;
  const s = reading.state;
  if (s.refused) return "the lease service found this node's lease unsafe and refuses its next renew";
  if (!s.holder) {
    return s.leaseSession
      ? `the lease is held by another session (${s.leaseSession}${s.primary ? `, primary "${s.primary}"` : ""})`
      : "the lease key is not held by any session";
  }
  if (s.deadlineNs !== null && nowNs > BigInt(s.deadlineNs)) {
    return `the lease deadline passed ${(Number(nowNs - BigInt(s.deadlineNs)) / 1e6).toFixed(0)} ms ago (no confirmed renew)`;
  }
  if (s.contactNs === null) return "the lease service never confirmed quorum contact";
  const gapMs = Number(nowNs - BigInt(s.contactNs)) / 1e6;
  if (gapMs > s.graceMs) return `no Raft quorum contact for ${gapMs.toFixed(0)} ms (grace ${s.graceMs} ms)`;
  return null;
}

/** The next instant (hrtime ns) at which leaseProblem may change by time alone, or null. */
export function nextLeaseChangeNs(reading: LeaseStateReading): bigint | null {
  if (!reading.ok || !reading.state.holder || reading.state.refused) return null;
  const s = reading.state;
  const times: bigint[] = [];
  if (s.deadlineNs !== null) times.push(BigInt(s.deadlineNs));
  if (s.contactNs !== null) times.push(BigInt(s.contactNs) + BigInt(Math.round(s.graceMs * 1e6)));
  return times.length === 0 ? null : times.reduce((a, b) => (a < b ? a : b));
}
