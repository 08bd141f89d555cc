// Temp directories laid out exactly as a LiteFS v0.5.14 FUSE mount shows them (see
// /work/shared/docs/litefs-contract.md and test/fixtures/litefs-0.5.14/), for tests that need a
// "LiteFS mount" without LiteFS:
//   primary                 no .primary, .lag "+000000000\n", <db>-pos
//   replica                 .primary "<host>\n" (mode 0444), .lag "%+010d\n", <db>-pos
//   replica, primary lost   no .primary, .lag not zero (e.g. "+000004521\n")
//
// Usage:
//   const mount = createTempMount({ role: "primary" });        // mount.path is absolute
//   mount.setReplica({ primary: "node-a", lagMs: 281 });      // switch state in place
//   mount.setPosition(5n, "a2fc350afcb62d33");
//   mount.remove();                                           // "no mount": the directory is gone
//   mount.cleanup();                                          // in afterEach; idempotent
//
// `readLitefsFixture(name)` returns a recorded capture from test/fixtures/litefs-0.5.14/.
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, unlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const FIXTURES_DIR = join(dirname(fileURLToPath(import.meta.url)), "..", "fixtures", "litefs-0.5.14");

/** The bytes of a recorded LiteFS capture, as text (e.g. "events-replica.ndjson"). */
export function readLitefsFixture(name: string): string {
  return readFileSync(join(FIXTURES_DIR, name), "utf8");
}

/** LiteFS's `.lag` formatting: printf("%+010d\n", ms). */
export function formatLag(ms: number): string {
  const sign = ms < 0 ? "-" : "+";
  return `${sign}${String(Math.abs(Math.trunc(ms))).padStart(9, "0")}\n`;
}

/** LiteFS's `<db>-pos` formatting: printf("%016x/%016x\n", txid, checksum). */
export function formatPosition(txid: bigint, checksum: string | bigint): string {
  const sum = typeof checksum === "bigint" ? checksum.toString(16) : checksum;
  return `${txid.toString(16).padStart(16, "0")}/${sum.padStart(16, "0")}\n`;
}

export type MountState =
  | { readonly role: "primary" }
  | { readonly role: "replica"; readonly primary?: string; readonly lagMs?: number }
  | { readonly role: "replica-lost-primary"; readonly lagMs?: number };

export interface TempMountOptions {
  /** Database file name; `<db>-pos` is written for it. Default "db" (as in the fixtures). */
  readonly databaseName?: string;
  /** Initial position. Default TXID 4, checksum a2fc350afcb62d33 (the fixture `db-pos.txt`). */
  readonly txid?: bigint;
  readonly checksum?: string;
}

export interface TempMount {
  /** Absolute path of the mount directory (what `mountPath` should be set to). */
  readonly path: string;
  readonly databaseName: string;
  /** Primary: removes .primary, writes .lag "+000000000\n". */
  setPrimary(): void;
  /** Replica of `primary` (default "node-a"): .primary "<primary>\n" mode 0444, .lag formatted lagMs (default 281). */
  setReplica(options?: { primary?: string; lagMs?: number }): void;
  /** Replica that lost its primary: removes .primary, .lag formatted lagMs (default 4521; must not be 0). */
  setReplicaLostPrimary(options?: { lagMs?: number }): void;
  setState(state: MountState): void;
  /** Writes `<db>-pos`. */
  setPosition(txid: bigint, checksum?: string): void;
  /** Writes a mount file's raw content (e.g. garbage into ".lag"); `mode` defaults to 0o444. */
  writeRaw(name: string, content: string, mode?: number): void;
  /** Deletes a mount file if present. */
  removeFile(name: string): void;
  /** Deletes the whole directory: the state of a node with no LiteFS mount. */
  remove(): void;
  /** Recreates the directory after remove() (empty until a set* call). */
  recreate(): void;
  /** Removes everything; safe to call twice. */
  cleanup(): void;
}

export function createTempMount(state: MountState = { role: "primary" }, options: TempMountOptions = {}): TempMount {
  const root = mkdtempSync(join(tmpdir(), "litefs-mount-"));
  const path = join(root, "mnt");
  mkdirSync(path);
  const databaseName = options.databaseName ?? "db";

  // .primary is 0444 (read-only, like LiteFS's virtual file): unlink before rewriting, since a
  // non-root test runner could not open it for writing.
  function writeFile(name: string, content: string, mode = 0o444): void {
    const file = join(path, name);
    removeFile(name);
    writeFileSync(file, content, { mode });
    chmodSync(file, mode);
  }
  function removeFile(name: string): void {
    try {
      unlinkSync(join(path, name));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
    }
  }

  const mount: TempMount = {
    path,
    databaseName,
    setPrimary() {
      removeFile(".primary");
      writeFile(".lag", formatLag(0));
    },
    setReplica(o = {}) {
      writeFile(".primary", `${o.primary ?? "node-a"}\n`, 0o444);
      writeFile(".lag", formatLag(o.lagMs ?? 281));
    },
    setReplicaLostPrimary(o = {}) {
      const lagMs = o.lagMs ?? 4521;
      if (lagMs === 0) throw new Error("a replica that lost its primary has a non-zero .lag");
      removeFile(".primary");
      writeFile(".lag", formatLag(lagMs));
    },
    setState(s) {
      if (s.role === "primary") mount.setPrimary();
      else if (s.role === "replica") mount.setReplica({ primary: s.primary, lagMs: s.lagMs });
      else mount.setReplicaLostPrimary({ lagMs: s.lagMs });
    },
    setPosition(txid, checksum = "a2fc350afcb62d33") {
      writeFile(`${databaseName}-pos`, formatPosition(txid, checksum));
    },
    writeRaw(name, content, mode = 0o444) {
      writeFile(name, content, mode);
    },
    removeFile,
    remove() {
      rmSync(path, { recursive: true, force: true });
    },
    recreate() {
      mkdirSync(path, { recursive: true });
    },
    cleanup() {
      rmSync(root, { recursive: true, force: true });
    },
  };
  mount.setState(state);
  mount.setPosition(options.txid ?? 4n, options.checksum);
  return mount;
}
