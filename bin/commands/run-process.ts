// LiteFS as `litefs-node run`'s child, in a process group of its own. LiteFS starts the app (its
// `exec`) without a new process group, so the app lives in LiteFS's group: when LiteFS dies on its
// own (exit 99, exit 1, SIGKILL) run can still reach the app, which would otherwise be left
// running as an orphan on a dead mount. Signals for LiteFS itself go to LiteFS only: it forwards
// them to the app and waits for it, as it does without us.

import { spawn, type ChildProcess } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { shellExitCode } from "../../src/signals.js";

export interface LitefsExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  /** Set when LiteFS could not be started at all. */
  readonly spawnError?: Error;
}

export interface LitefsProcess {
  readonly child: ChildProcess;
  readonly exited: Promise<LitefsExit>;
  /** Sends `signal` to LiteFS alone (it forwards it to the app). */
  signal(signal: NodeJS.Signals): void;
  /**
   * After LiteFS exited: TERM whatever is left of its process group (the app and its children),
   * KILL after `graceMs`. Resolves with which signals it had to send (none: the group was already empty).
   */
  stopLeftovers(graceMs: number): Promise<{ readonly termed: boolean; readonly killed: boolean }>;
}

/** Exit code in the shell's convention: the code, or 128 + the signal's number. */
export function exitCodeOf(exit: LitefsExit): number {
  if (exit.spawnError) return 127;
  return shellExitCode(exit.code, exit.signal);
}

/** Live (not zombie) members of process group `pgid` per /proc; null where there is no /proc. */
function liveGroupMembers(pgid: number): number | null {
  let entries: string[];
  try {
    entries = readdirSync("/proc");
  } catch {
    return null;
  }
  let live = 0;
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, "utf8");
    } catch {
      continue; // gone meanwhile
    }
    // "pid (comm) state ppid pgrp ...": comm may hold spaces and parentheses; split after the last ")".
    const [state, , pgrp] = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    if (Number(pgrp) === pgid && state !== "Z" && state !== "X") live++;
  }
  return live;
}

function groupAlive(pgid: number): boolean {
  // A zombie counts for kill(-pgid, 0) but needs no stopping (whoever adopted it reaps it; run
  // as PID 1 in a container without an init would not, hence /proc first).
  const live = liveGroupMembers(pgid);
  if (live !== null) return live > 0;
  try {
    process.kill(-pgid, 0);
    return true;
  } catch (error) {
    // EPERM: a member we may not signal (setuid): nothing we can do about it either.
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

function signalGroup(pgid: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(-pgid, signal);
    return true;
  } catch {
    return false;
  }
}

export function startLitefs(binary: string, args: readonly string[], env: NodeJS.ProcessEnv): LitefsProcess {
  // detached: LiteFS leads a new process group (pgid = its pid); stdio stays ours.
  const child = spawn(binary, [...args], { stdio: "inherit", env, detached: true });
  const exited = new Promise<LitefsExit>((resolve) => {
    child.once("exit", (code, signal) => resolve({ code, signal }));
    child.once("error", (error) => resolve({ code: null, signal: null, spawnError: error }));
  });
  const pgid = child.pid;
  return {
    child,
    exited,
    signal(signal) {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    },
    async stopLeftovers(graceMs) {
      if (pgid === undefined || !groupAlive(pgid)) return { termed: false, killed: false };
      signalGroup(pgid, "SIGTERM");
      const deadline = Date.now() + graceMs;
      while (Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 50));
        if (!groupAlive(pgid)) return { termed: true, killed: false };
      }
      signalGroup(pgid, "SIGKILL");
      for (let i = 0; i < 40 && groupAlive(pgid); i++) await new Promise((r) => setTimeout(r, 25));
      return { termed: true, killed: true };
    },
  };
}
