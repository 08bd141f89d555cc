// File-system path rules. LiteFS runs on Linux only, so mount and data paths are POSIX paths
// whatever machine renders the config.

import { posix } from "node:path";

/** A problem message for `text` as an absolute POSIX path, or null when it is one. */
export function absolutePathProblem(text: string): string | null {
  if (text.includes("\0")) return `must not contain a NUL character, got ${JSON.stringify(text)}`;
  if (!posix.isAbsolute(text)) return `must be an absolute path, got ${JSON.stringify(text)}`;
  return null;
}

function normalizeDir(path: string): string {
  const normalized = posix.normalize(path);
  return normalized.length > 1 && normalized.endsWith("/") ? normalized.slice(0, -1) : normalized;
}

/** True when two absolute paths name the same directory ("/a/" and "/a/./b/.." do). */
export function isSameDir(a: string, b: string): boolean {
  return normalizeDir(a) === normalizeDir(b);
}

/** True when absolute path `child` equals `parent` or lies under it (after normalizing). */
export function isSameOrInside(child: string, parent: string): boolean {
  const c = normalizeDir(child);
  const p = normalizeDir(parent);
  if (c === p) return true;
  return c.startsWith(p === "/" ? "/" : `${p}/`);
}

/** A problem message for `text` as a plain file name ("db.sqlite3"), or null when it is one. */
export function fileNameProblem(text: string): string | null {
  const shown = JSON.stringify(text);
  if (text === "") return `must be a file name such as "db.sqlite3", got an empty string`;
  if (text.includes("\0")) return `must not contain a NUL character, got ${shown}`;
  if (text.includes("/") || text.includes("\\")) {
    return `must be a plain file name such as "db.sqlite3" without directories, got ${shown}`;
  }
  if (text === "." || text === "..") return `must be a file name such as "db.sqlite3", got ${shown}`;
  return null;
}
