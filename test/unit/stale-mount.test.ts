// Clearing the dead FUSE mount a LiteFS that died leaves: detection from stat errors and
// /proc/self/mountinfo, and a real (fake) fusermount3 process run with -uz.
import { mkdtempSync, readFileSync, rmSync, writeFileSync, chmodSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { clearStaleMount, fuseMountPoints, mountState, type MountProbe } from "../../src/litefs/stale-mount.js";

const MOUNTINFO = [
  "22 1 0:21 / /proc rw,nosuid - proc proc rw",
  "41 22 0:35 / /srv/my\\040mnt rw,nosuid,nodev,relatime shared:1 - fuse.litefs litefs rw,user_id=0,group_id=0",
  "42 22 0:36 / /litefs rw - fuse litefs rw",
].join("\n");

const errno = (code: string): Error => Object.assign(new Error(`${code}: stat`), { code });
const probe = (statError: string | null, info: string | null = MOUNTINFO): MountProbe => ({
  mountinfo: () => info,
  stat: () => {
    if (statError) throw errno(statError);
  },
});

let dir = "";
afterEach(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe("stale FUSE mount detection", () => {
  it("reads FUSE mount points from mountinfo, unescaping octal", () => {
    expect(fuseMountPoints(MOUNTINFO)).toEqual(["/srv/my mnt", "/litefs"]);
  });

  it("tells a dead mount (ENOTCONN) from a live one and from no mount", () => {
    expect(mountState("/litefs", probe("ENOTCONN"))).toEqual({ kind: "dead", code: "ENOTCONN" });
    expect(mountState("/litefs", probe(null))).toEqual({ kind: "live" });
    expect(mountState("/elsewhere", probe(null))).toEqual({ kind: "none" });
    expect(mountState("/litefs", probe("ENOENT"))).toEqual({ kind: "none" });
    expect(mountState("/litefs", probe(null, null))).toEqual({ kind: "none" });
  });

  it("runs fusermount3 -uz on a dead mount only, and says what to do without one", () => {
    dir = mkdtempSync(join(tmpdir(), "stale-mount-"));
    const log = join(dir, "calls");
    const fake = join(dir, "fusermount3");
    writeFileSync(fake, `#!/bin/sh\necho "$@" >> "${log}"\n`);
    chmodSync(fake, 0o755);
    const env = { PATH: dir };
    expect(clearStaleMount("/litefs", { probe: probe(null), env })).toEqual({ kind: "live" });
    expect(clearStaleMount("/nothing", { probe: probe("ENOENT"), env })).toEqual({ kind: "clean" });
    expect(() => readFileSync(log, "utf8")).toThrow(); // nothing ran so far
    expect(clearStaleMount("/litefs", { probe: probe("ENOTCONN"), env })).toEqual({
      kind: "cleared",
      command: `${fake} -uz /litefs`,
      code: "ENOTCONN",
    });
    expect(readFileSync(log, "utf8")).toBe("-uz /litefs\n");

    const none = clearStaleMount("/litefs", { probe: probe("ENOTCONN"), env: { PATH: join(dir, "empty") } });
    expect(none.kind).toBe("failed");
    expect(none.kind === "failed" && none.message).toMatch(/dead FUSE mount \(ENOTCONN\).*fusermount3 -uz \/litefs/);

    writeFileSync(fake, "#!/bin/sh\necho 'fusermount3: entry for /litefs not found' >&2\nexit 1\n");
    const failed = clearStaleMount("/litefs", { probe: probe("ENOTCONN"), env });
    expect(failed.kind === "failed" && failed.message).toMatch(
      /-uz" failed: fusermount3: entry for \/litefs not found/,
    );
  });
});
