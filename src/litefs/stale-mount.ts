// A LiteFS that died (SIGKILL, exit 99, a crash) leaves its FUSE mount behind, dead: every access
// fails with ENOTCONN ("Transport endpoint is not connected") and the next `litefs mount` fails
// with `cannot init file system: mkdir …: file exists` until someone runs `fusermount3 -u`.
// `litefs-node run` clears such a mount before it starts LiteFS. Linux only; elsewhere there are
// no FUSE mounts of LiteFS to find.

import { spawnSync } from "node:child_process";
import { readFileSync, statSync } from "node:fs";
import { resolve } from "node:path";
import { findOnPath } from "./executables.js";

/** Errors a dead FUSE mount point answers with. */
const DEAD_MOUNT_CODES = new Set(["ENOTCONN", "ECONNABORTED", "EIO"]);

/** Mount points in /proc/self/mountinfo whose file system type is FUSE (`fuse`, `fuse.litefs`, …). */
export function fuseMountPoints(mountinfo: string): string[] {
  const points: string[] = [];
  for (const line of mountinfo.split("\n")) {
    // Fields: id parent major:minor root mountpoint options [optional…] - fstype source superoptions
    const fields = line.split(" ");
    const dash = fields.indexOf("-");
    if (dash < 0 || fields.length < 5) continue;
    const fstype = fields[dash + 1] ?? "";
    if (fstype !== "fuse" && !fstype.startsWith("fuse.")) continue;
    // The kernel escapes space, tab, newline and backslash as \ooo octal.
    points.push(
      (fields[4] as string).replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(parseInt(octal, 8))),
    );
  }
  return points;
}

export type MountState =
  { readonly kind: "none" } | { readonly kind: "live" } | { readonly kind: "dead"; readonly code: string };

export interface MountProbe {
  /** /proc/self/mountinfo text; null when unreadable (not Linux). */
  readonly mountinfo: () => string | null;
  /** Throws like fs.statSync. */
  readonly stat: (path: string) => void;
}

const systemProbe: MountProbe = {
  mountinfo: () => {
    try {
      return readFileSync("/proc/self/mountinfo", "utf8");
    } catch {
      return null;
    }
  },
  stat: (path) => void statSync(path),
};

/** Whether `mountPath` is a FUSE mount, and if so whether it still answers. */
export function mountState(mountPath: string, probe: MountProbe = systemProbe): MountState {
  const path = resolve(mountPath);
  try {
    probe.stat(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? "";
    if (DEAD_MOUNT_CODES.has(code)) return { kind: "dead", code };
    return { kind: "none" }; // ENOENT and friends: nothing mounted there that we could clear
  }
  const info = probe.mountinfo();
  return info !== null && fuseMountPoints(info).includes(path) ? { kind: "live" } : { kind: "none" };
}

export type StaleMountOutcome =
  | { readonly kind: "clean" }
  | { readonly kind: "live" }
  | { readonly kind: "cleared"; readonly command: string; readonly code: string }
  | { readonly kind: "failed"; readonly message: string };

/**
 * Clears a dead FUSE mount at `mountPath` with `fusermount3 -uz` (or `fusermount -uz`): a lazy
 * unmount, since a process may still hold files of the dead mount open. Runs nothing when the
 * mount point is healthy or not a mount, or when no fusermount is installed (then says so).
 */
export function clearStaleMount(
  mountPath: string,
  options: { probe?: MountProbe; env?: NodeJS.ProcessEnv } = {},
): StaleMountOutcome {
  const state = mountState(mountPath, options.probe);
  if (state.kind === "none") return { kind: "clean" };
  if (state.kind === "live") return { kind: "live" };
  const fusermount = findOnPath(["fusermount3", "fusermount"], options.env);
  if (fusermount === null) {
    return {
      kind: "failed",
      message: `${mountPath} is a dead FUSE mount (${state.code}) left by a LiteFS that died, and neither fusermount3 nor fusermount is on PATH: run "fusermount3 -uz ${mountPath}" (package fuse3)`,
    };
  }
  const result = spawnSync(fusermount, ["-uz", resolve(mountPath)], { encoding: "utf8", timeout: 10_000 });
  if (result.status !== 0) {
    const why = result.error?.message ?? (result.stderr.trim() || `exit code ${result.status}`);
    return {
      kind: "failed",
      message: `${mountPath} is a dead FUSE mount (${state.code}); "${fusermount} -uz" failed: ${why}`,
    };
  }
  return { kind: "cleared", command: `${fusermount} -uz ${resolve(mountPath)}`, code: state.code };
}
