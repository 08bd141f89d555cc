import {
  appendFileSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  truncateSync,
  writeFileSync,
  readdirSync,
  mkdirSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { openRaftStorage, RaftStorageError, type RaftStorage } from "../../src/raft/storage.js";
import { encodeRecord } from "../../src/raft/storage-log.js";
import { encodeEntry } from "../../src/raft/codec.js";
import type { Entry } from "../../src/raft/types.js";

const enc = new TextEncoder();
const entry = (index: number, term: number, text = `e${index}`): Entry => ({
  index,
  term,
  type: "normal",
  data: enc.encode(text),
});
const range = (from: number, to: number, term: number): Entry[] =>
  Array.from({ length: to - from + 1 }, (_, k) => entry(from + k, term));

let root: string;
let dir: string;
const open: RaftStorage[] = [];

function openStorage(
  opts: { bootstrap?: boolean; nodeId?: string; clusterId?: string; warnings?: string[] } = {},
): RaftStorage {
  const s = openRaftStorage({
    dir,
    nodeId: opts.nodeId ?? "n1",
    clusterId: opts.clusterId ?? "c1",
    bootstrap: opts.bootstrap ?? false,
    onWarning: (m) => opts.warnings?.push(m),
  });
  open.push(s);
  return s;
}

function reopen(s: RaftStorage, opts: { warnings?: string[] } = {}): RaftStorage {
  s.close();
  return openStorage(opts);
}

function texts(es: readonly Entry[]): string[] {
  return es.map((e) => `${e.index}@${e.term}:${new TextDecoder().decode(e.data)}`);
}

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), "raft-storage-"));
  dir = join(root, "raft");
});

afterEach(() => {
  for (const s of open.splice(0)) s.close();
  rmSync(root, { recursive: true, force: true });
});

describe("identity and missing storage", () => {
  it("refuses a missing directory without bootstrap, naming the node and the way out", () => {
    let err: unknown;
    try {
      openStorage();
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(RaftStorageError);
    expect((err as RaftStorageError).kind).toBe("missing");
    expect((err as Error).message).toContain('node "n1"');
    expect((err as Error).message).toContain("must not rejoin under its old id");
    expect((err as Error).message).toContain("LITEFS_RAFT_BOOTSTRAP");
  });

  it("refuses an empty directory without bootstrap (data lost, node restarted)", () => {
    mkdirSync(dir);
    expect(() => openStorage()).toThrow(/is empty at/);
  });

  it("bootstraps an empty directory and reopens it without the flag", () => {
    const s = openStorage({ bootstrap: true });
    expect(s.initial).toEqual({ hardState: { term: 0, vote: null, commit: 0 }, entries: [], snapshot: null });
    expect(readdirSync(dir)).toContain("identity.json");
    const again = reopen(s);
    expect(again.identity.nodeId).toBe("n1");
    expect(again.identity.clusterId).toBe("c1");
  });

  it("refuses storage of another node or cluster", () => {
    openStorage({ bootstrap: true }).close();
    expect(() => openStorage({ nodeId: "n2" })).toThrow(/belongs to node "n1" in cluster "c1".*configured as "n2"/);
    expect(() => openStorage({ clusterId: "other" })).toThrow(/configured as "n1" in cluster "other"/);
  });

  it("ignores a bootstrap flag once the member has storage (left on in the environment), keeping its state", () => {
    const s = openStorage({ bootstrap: true });
    s.save({ hardState: { term: 2, vote: "n1", commit: 0 }, entries: range(1, 2, 2), snapshot: null });
    s.close();
    const warnings: string[] = [];
    const again = openStorage({ bootstrap: true, warnings });
    expect(again.initial.hardState).toEqual({ term: 2, vote: "n1", commit: 0 });
    expect(again.initial.entries).toHaveLength(2);
    expect(warnings.join()).toMatch(/bootstrap flag is ignored/);
  });

  it("still refuses a member whose storage was lost, with or without the flag having been used before", () => {
    const s = openStorage({ bootstrap: true });
    s.save({ hardState: { term: 2, vote: "n1", commit: 0 }, entries: [], snapshot: null });
    s.close();
    rmSync(dir, { recursive: true });
    expect(() => openStorage()).toThrow(/is missing at/);
  });

  it("refuses Raft files with state but no identity file; finishes a bootstrap that crashed before writing it", () => {
    const s = openStorage({ bootstrap: true });
    s.save({ hardState: { term: 1, vote: "n1", commit: 0 }, entries: [], snapshot: null });
    s.close();
    rmSync(join(dir, "identity.json"));
    expect(() => openStorage({ bootstrap: true })).toThrow(/no identity\.json/);
    rmSync(dir, { recursive: true });
    openStorage({ bootstrap: true }).close();
    rmSync(join(dir, "identity.json"));
    expect(() => openStorage()).toThrow(/no identity\.json/);
    expect(openStorage({ bootstrap: true }).initial.hardState.term).toBe(0);
  });

  it("gives every bootstrap a new incarnation and keeps it across reopen", () => {
    const s = openStorage({ bootstrap: true });
    const first = s.identity.incarnation;
    expect(first).toMatch(/^[0-9a-f]{32}$/);
    expect(reopen(s).identity.incarnation).toBe(first);
    open.splice(0).forEach((x) => x.close());
    rmSync(dir, { recursive: true });
    expect(openStorage({ bootstrap: true }).identity.incarnation).not.toBe(first);
  });
});

describe("files that should exist (issue 11: a deleted file must not open with defaults)", () => {
  const snap = (index: number, term: number) => ({
    meta: { index, term, voters: ["n1", "n2", "n3"] },
    data: enc.encode(`s${index}`),
  });

  function withSnapshotAt6(): void {
    const s = openStorage({ bootstrap: true });
    s.save({ hardState: { term: 7, vote: "n2", commit: 0 }, entries: range(1, 10, 7), snapshot: null });
    s.save({ hardState: { term: 7, vote: "n2", commit: 8 }, entries: [], snapshot: null });
    s.compact(snap(6, 7));
    s.close();
  }

  it("refuses a missing hard state (a vote in term 7 would be forgotten), naming the file and the recovery", () => {
    withSnapshotAt6();
    rmSync(join(dir, "hardstate"));
    let err: Error | null = null;
    try {
      openStorage();
    } catch (e) {
      err = e as Error;
    }
    expect(err).toBeInstanceOf(RaftStorageError);
    expect(err!.message).toContain(join(dir, "hardstate"));
    expect(err!.message).toMatch(/is missing.*remove this member's Raft data directory and add the member back/);
  });

  it("refuses a deleted log when entries 7-10 sit after a snapshot at 6", () => {
    withSnapshotAt6();
    rmSync(join(dir, "log"));
    expect(() => openStorage()).toThrow(new RegExp(`${join(dir, "log")} is missing`));
  });

  it("refuses an emptied log (entries 7-10 acknowledged, none left)", () => {
    withSnapshotAt6();
    writeFileSync(join(dir, "log"), Buffer.alloc(0));
    expect(() => openStorage()).toThrow(/holds entries only up to 6 but entries up to 10 were acknowledged/);
  });

  it("refuses a missing snapshot and a snapshot older than the recorded one", () => {
    withSnapshotAt6();
    const current = readFileSync(join(dir, "snapshot"));
    rmSync(join(dir, "snapshot"));
    expect(() => openStorage()).toThrow(
      new RegExp(`${join(dir, "snapshot")} is missing, but the hard state records a snapshot at index 6`),
    );
    writeFileSync(join(dir, "snapshot"), current);
    const s = openStorage();
    s.save({ hardState: { term: 7, vote: "n2", commit: 10 }, entries: [], snapshot: null });
    s.compact(snap(9, 7));
    s.close();
    writeFileSync(join(dir, "snapshot"), current);
    expect(() => openStorage()).toThrow(/is at index 6, older than the snapshot at 9/);
  });

  it("refuses a log cut short by whole records (no torn record to blame)", () => {
    const s = openStorage({ bootstrap: true });
    s.save({ hardState: { term: 1, vote: "n1", commit: 0 }, entries: range(1, 4, 1), snapshot: null });
    s.close();
    const b = readFileSync(join(dir, "log"));
    const firstLen = b.readUInt32BE(0);
    writeFileSync(join(dir, "log"), b.subarray(0, 8 + firstLen));
    expect(() => openStorage()).toThrow(
      /holds entries only up to 1 but entries up to 4 were acknowledged: it ends at byte/,
    );
  });
});

describe("hard state and log", () => {
  it("persists term, vote and entries across reopen", () => {
    let s = openStorage({ bootstrap: true });
    s.save({ hardState: { term: 3, vote: "n2", commit: 0 }, entries: range(1, 5, 3), snapshot: null });
    s = reopen(s);
    expect(s.initial.hardState).toEqual({ term: 3, vote: "n2", commit: 0 });
    expect(texts(s.initial.entries)).toEqual(texts(range(1, 5, 3)));
  });

  it("writes the hard state atomically: a leftover temp file from a crashed write is ignored", () => {
    let s = openStorage({ bootstrap: true });
    s.save({ hardState: { term: 1, vote: "n1", commit: 0 }, entries: [], snapshot: null });
    s.close();
    writeFileSync(join(dir, ".hardstate.tmp"), "half-written garbage");
    s = openStorage();
    expect(s.initial.hardState).toEqual({ term: 1, vote: "n1", commit: 0 });
    expect(readdirSync(dir)).not.toContain(".hardstate.tmp");
  });

  it("refuses a damaged hard-state file instead of defaulting to term 0", () => {
    const s = openStorage({ bootstrap: true });
    s.save({ hardState: { term: 1, vote: "n1", commit: 0 }, entries: [], snapshot: null });
    s.close();
    const path = join(dir, "hardstate");
    const b = readFileSync(path);
    b[b.length - 1]! ^= 0xff;
    writeFileSync(path, b);
    expect(() => openStorage()).toThrow(/hardstate is damaged: checksum mismatch/);
  });

  it("persists commit lazily but never loses term/vote, and clamps nothing when in range", () => {
    let s = openStorage({ bootstrap: true });
    s.save({ hardState: { term: 1, vote: "n1", commit: 0 }, entries: range(1, 3, 1), snapshot: null });
    s.save({ hardState: { term: 1, vote: "n1", commit: 3 }, entries: [], snapshot: null });
    s = reopen(s); // close writes the latest commit
    expect(s.initial.hardState).toEqual({ term: 1, vote: "n1", commit: 3 });
  });

  it("truncates conflicting entries: an entry at index i replaces everything from i on", () => {
    let s = openStorage({ bootstrap: true });
    s.save({ hardState: { term: 2, vote: null, commit: 0 }, entries: range(1, 6, 1), snapshot: null });
    s.save({ hardState: null, entries: [entry(4, 2, "new4"), entry(5, 2, "new5")], snapshot: null });
    s.save({ hardState: null, entries: [entry(6, 2, "new6")], snapshot: null });
    s = reopen(s);
    expect(texts(s.initial.entries)).toEqual(["1@1:e1", "2@1:e2", "3@1:e3", "4@2:new4", "5@2:new5", "6@2:new6"]);
  });

  it("rejects appends that would leave a gap", () => {
    const s = openStorage({ bootstrap: true });
    s.save({ hardState: { term: 1, vote: null, commit: 0 }, entries: range(1, 2, 1), snapshot: null });
    expect(() => s.save({ hardState: null, entries: [entry(4, 1)], snapshot: null })).toThrow(/gap/);
  });

  it("refuses a hard state older than the log", () => {
    const s = openStorage({ bootstrap: true });
    s.save({ hardState: { term: 1, vote: null, commit: 0 }, entries: [], snapshot: null });
    s.save({ hardState: null, entries: range(1, 2, 5), snapshot: null });
    s.close();
    expect(() => openStorage()).toThrow(/log holds term 5 but the stored current term is 1/);
  });
});

describe("crash recovery of the log tail", () => {
  function prepared(): void {
    const s = openStorage({ bootstrap: true });
    s.save({ hardState: { term: 1, vote: "n1", commit: 0 }, entries: range(1, 4, 1), snapshot: null });
    s.close();
  }

  it("drops a partially written record and keeps appending after it", () => {
    prepared();
    const logPath = join(dir, "log");
    const rec = encodeRecord(encodeEntry(entry(5, 1)));
    appendFileSync(logPath, rec.subarray(0, rec.length - 3));
    const warnings: string[] = [];
    let s = openStorage({ warnings });
    expect(texts(s.initial.entries)).toEqual(texts(range(1, 4, 1)));
    expect(warnings.join()).toMatch(/dropped \d+ bytes of unacknowledged torn tail/);
    s.save({ hardState: null, entries: [entry(5, 1, "again")], snapshot: null });
    s = reopen(s);
    expect(texts(s.initial.entries).at(-1)).toBe("5@1:again");
  });

  it("drops a record header cut in the middle", () => {
    prepared();
    appendFileSync(join(dir, "log"), Buffer.from([0, 0, 0]));
    expect(openStorage().initial.entries).toHaveLength(4);
  });

  it("drops random garbage and a zero-filled tail", () => {
    prepared();
    const logPath = join(dir, "log");
    const size = statSync(logPath).size;
    appendFileSync(logPath, Buffer.alloc(4096));
    let s = openStorage();
    expect(s.initial.entries).toHaveLength(4);
    s.close();
    expect(statSync(logPath).size).toBe(size);
    appendFileSync(logPath, Buffer.from("\xde\xad\xbe\xef garbage that is not a record at all", "latin1"));
    s = openStorage();
    expect(s.initial.entries).toHaveLength(4);
  });

  it("drops a complete record whose checksum does not match at the tail", () => {
    prepared();
    const rec = encodeRecord(encodeEntry(entry(5, 1)));
    rec[rec.length - 1]! ^= 0x55;
    appendFileSync(join(dir, "log"), rec);
    expect(openStorage().initial.entries).toHaveLength(4);
  });

  it("refuses corruption in the middle of the log (valid records follow the bad one)", () => {
    prepared();
    const logPath = join(dir, "log");
    const b = readFileSync(logPath);
    // Flip a payload byte of the second record; records 3 and 4 stay valid.
    const firstLen = b.readUInt32BE(0);
    b[8 + firstLen + 8 + 2]! ^= 0xff;
    writeFileSync(logPath, b);
    expect(() => openStorage()).toThrow(
      new RegExp(
        `${logPath} holds entries only up to 1 but entries up to 4 were acknowledged: it is damaged at byte ${8 + firstLen} \\(checksum mismatch\\)`,
      ),
    );
  });

  it("refuses a flipped bit in a length field mid-log instead of taking it for a torn tail", () => {
    prepared();
    const logPath = join(dir, "log");
    const b = readFileSync(logPath);
    const firstLen = b.readUInt32BE(0);
    // The second record's length grows by 256: it now seems to run past the end of the file.
    b[8 + firstLen + 2]! ^= 0x01;
    writeFileSync(logPath, b);
    expect(() => openStorage()).toThrow(
      new RegExp(
        `${logPath} holds entries only up to 1 but entries up to 4 were acknowledged: it is damaged at byte ${8 + firstLen}`,
      ),
    );
    expect(readFileSync(logPath)).toEqual(b);
  });

  it("drops a torn multi-record append whose earlier pages never reached the disk", () => {
    prepared();
    const logPath = join(dir, "log");
    const base = readFileSync(logPath).length;
    // One append of two records; the first (big) one lost a zeroed sector, the second landed.
    const big = encodeRecord(encodeEntry({ index: 5, term: 1, type: "normal", data: new Uint8Array(3000).fill(7) }));
    const small = encodeRecord(encodeEntry(entry(6, 1)));
    const sectorStart = Math.ceil((base + 100) / 512) * 512 - base;
    big.fill(0, sectorStart, sectorStart + 512);
    appendFileSync(logPath, Buffer.concat([big, small]));
    const warnings: string[] = [];
    const s = openStorage({ warnings });
    expect(s.initial.entries.map((e) => e.index)).toEqual([1, 2, 3, 4]);
    expect(warnings.join()).toMatch(/torn/);
  });

  it("refuses a last acknowledged record cut short (it was fsynced before the ack: not a torn tail)", () => {
    const s = openStorage({ bootstrap: true });
    s.save({ hardState: { term: 1, vote: "n1", commit: 0 }, entries: range(1, 4, 1), snapshot: null });
    s.save({ hardState: { term: 1, vote: "n1", commit: 4 }, entries: [], snapshot: null });
    s.close();
    const logPath = join(dir, "log");
    truncateSync(logPath, statSync(logPath).size - 2);
    expect(() => openStorage()).toThrow(/holds entries only up to 3 but entries up to 4 were acknowledged/);
  });
});

describe("snapshots and compaction", () => {
  const snap = (index: number, term: number, text: string) => ({
    meta: { index, term, voters: ["n1", "n2", "n3"] },
    data: enc.encode(text),
  });

  it("compacts the log up to a local snapshot and keeps the suffix", () => {
    let s = openStorage({ bootstrap: true });
    s.save({ hardState: { term: 1, vote: "n1", commit: 0 }, entries: range(1, 10, 1), snapshot: null });
    s.save({ hardState: { term: 1, vote: "n1", commit: 7 }, entries: [], snapshot: null });
    const sizeBefore = statSync(join(dir, "log")).size;
    s.compact(snap(7, 1, "state@7"));
    expect(statSync(join(dir, "log")).size).toBeLessThan(sizeBefore);
    s.save({ hardState: null, entries: [entry(11, 1)], snapshot: null });
    s = reopen(s);
    expect(s.initial.snapshot?.meta).toEqual({ index: 7, term: 1, voters: ["n1", "n2", "n3"] });
    expect(new TextDecoder().decode(s.initial.snapshot!.data)).toBe("state@7");
    expect(s.initial.entries.map((e) => e.index)).toEqual([8, 9, 10, 11]);
    expect(s.initial.hardState.commit).toBe(7);
  });

  it("a snapshot from the leader replaces the whole log", () => {
    let s = openStorage({ bootstrap: true });
    s.save({ hardState: { term: 1, vote: null, commit: 0 }, entries: range(1, 5, 1), snapshot: null });
    s.save({ hardState: { term: 3, vote: null, commit: 20 }, entries: [], snapshot: snap(20, 3, "leader state") });
    s.save({ hardState: null, entries: [entry(21, 3)], snapshot: null });
    s = reopen(s);
    expect(s.initial.snapshot?.meta.index).toBe(20);
    expect(s.initial.entries.map((e) => e.index)).toEqual([21]);
    expect(s.initial.hardState).toEqual({ term: 3, vote: null, commit: 20 });
  });

  it("skips log records covered by a snapshot written just before a crash", () => {
    const s = openStorage({ bootstrap: true });
    s.save({ hardState: { term: 1, vote: null, commit: 0 }, entries: range(1, 6, 1), snapshot: null });
    s.close();
    // Simulate: snapshot at 4 became durable, the crash hit before the log rewrite.
    const snapStorage = openStorage();
    const logBefore = readFileSync(join(dir, "log"));
    snapStorage.compact(snap(4, 1, "s4"));
    snapStorage.close();
    writeFileSync(join(dir, "log"), logBefore);
    const again = openStorage();
    expect(again.initial.entries.map((e) => e.index)).toEqual([5, 6]);
    again.save({ hardState: null, entries: [entry(7, 1)], snapshot: null });
    expect(reopen(again).initial.entries.map((e) => e.index)).toEqual([5, 6, 7]);
  });

  it("refuses a log that starts after a gap following the snapshot", () => {
    let s = openStorage({ bootstrap: true });
    s.save({ hardState: { term: 1, vote: null, commit: 0 }, entries: range(1, 6, 1), snapshot: null });
    s.close();
    s = openStorage();
    s.compact(snap(2, 1, "s2"));
    s.close();
    // Hand-craft a log that starts at 5 (entries 3 and 4 lost).
    writeFileSync(join(dir, "log"), Buffer.concat(range(5, 6, 1).map((e) => encodeRecord(encodeEntry(e)))));
    expect(() => openStorage()).toThrow(/first entry after the snapshot is 5, expected 3/);
  });
});

describe("the data-directory lock", () => {
  const storageModule = fileURLToPath(new URL("../../src/raft/storage.ts", import.meta.url));

  it("refuses a second open of the same directory at once, in the same process", () => {
    openStorage({ bootstrap: true });
    const started = Date.now();
    let err: RaftStorageError | null = null;
    try {
      openStorage();
    } catch (e) {
      err = e as RaftStorageError;
    }
    expect(err?.kind).toBe("locked");
    expect(err?.message).toContain(`Raft data directory ${dir} is in use by another lease service`);
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it("is held by another process until it dies, and a SIGKILL leaves no stale lock", { timeout: 20_000 }, async () => {
    openStorage({ bootstrap: true }).close();
    const script = `const { openRaftStorage } = await import(${JSON.stringify(storageModule)});
      openRaftStorage({ dir: ${JSON.stringify(dir)}, nodeId: "n1", clusterId: "c1" });
      process.stdout.write("holding\\n");
      setInterval(() => {}, 1000);`;
    const child = spawn(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    try {
      await new Promise<void>((resolve, reject) => {
        child.stdout.on("data", (d: Buffer) => d.toString().includes("holding") && resolve());
        child.on("exit", (code) => reject(new Error(`holder exited with ${code}`)));
      });
      expect(() => openStorage()).toThrow(/is in use by another lease service/);
      const exited = new Promise((r) => child.on("exit", r));
      child.kill("SIGKILL");
      await exited;
      expect(openStorage().identity.nodeId).toBe("n1");
    } finally {
      child.kill("SIGKILL");
    }
  });
});
