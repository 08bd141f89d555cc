// Finding executables the way a shell does: LiteFS itself and fusermount for `litefs-node run`.
import { accessSync, constants, statSync } from "node:fs";
import { delimiter, join } from "node:path";

/** True for a regular file this process may execute. */
export function isExecutableFile(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/** The first of `names` found executable on PATH (in PATH order per name), or null. */
export function findOnPath(names: readonly string[], env: NodeJS.ProcessEnv = process.env): string | null {
  for (const name of names) {
    for (const dir of (env["PATH"] ?? "").split(delimiter)) {
      if (!dir) continue;
      const candidate = join(dir, name);
      if (isExecutableFile(candidate)) return candidate;
    }
  }
  return null;
}
