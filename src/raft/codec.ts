// Binary encoding of Raft messages and log entries.
//
// Decoding treats its input as hostile: every length is bounded, every enum checked, integers
// must be safe, trailing bytes are refused, and entries must be consecutive. The MAC in the
// transport already keeps strangers out; these checks keep a buggy or compromised peer (or a
// corrupt disk) from feeding the core shapes it never expects.

import { ByteReader, ByteWriter, RaftCodecError } from "./bytes.js";
import type { Entry, EntryType, Message, MessageType, Snapshot } from "./types.js";

export { RaftCodecError } from "./bytes.js";

export interface CodecLimits {
  /** Max UTF-8 bytes of a node id or cluster id. */
  readonly maxIdBytes: number;
  /** Max entries in one message. */
  readonly maxEntries: number;
  /** Max bytes of one entry's data. */
  readonly maxEntryBytes: number;
  /** Max bytes of a snapshot's state-machine data. */
  readonly maxSnapshotBytes: number;
  /** Max voters listed in a snapshot. */
  readonly maxVoters: number;
  /** Max bytes of a read/heartbeat context. */
  readonly maxContextBytes: number;
}

export const DEFAULT_CODEC_LIMITS: CodecLimits = Object.freeze({
  maxIdBytes: 255,
  maxEntries: 4096,
  maxEntryBytes: 1 << 20,
  maxSnapshotBytes: 64 << 20,
  maxVoters: 64,
  maxContextBytes: 1024,
});

const CODEC_VERSION = 1;

// Wire numbers are fixed forever: append new types at the end only.
const MESSAGE_TYPES: readonly MessageType[] = [
  "preVote",
  "preVoteResp",
  "vote",
  "voteResp",
  "app",
  "appResp",
  "heartbeat",
  "heartbeatResp",
  "snap",
  "readIndex",
  "readIndexResp",
  "timeoutNow",
];
const MESSAGE_TYPE_CODE: ReadonlyMap<MessageType, number> = new Map(MESSAGE_TYPES.map((t, i) => [t, i]));

const ENTRY_TYPES: readonly EntryType[] = ["normal", "noop"];

const FLAG_REJECT = 1;
const FLAG_SNAPSHOT = 2;
const FLAG_CONTEXT = 4;
const KNOWN_FLAGS = FLAG_REJECT | FLAG_SNAPSHOT | FLAG_CONTEXT;

function writeEntry(w: ByteWriter, e: Entry, limits: CodecLimits = DEFAULT_CODEC_LIMITS): void {
  const code = ENTRY_TYPES.indexOf(e.type);
  if (code < 0) throw new RaftCodecError(`entry ${e.index}: unknown type ${e.type}`);
  w.u64(e.term, "entry term").u64(e.index, "entry index").u8(code).bytes(e.data, limits.maxEntryBytes, "entry data");
}

function readEntry(r: ByteReader, limits: CodecLimits = DEFAULT_CODEC_LIMITS): Entry {
  const term = r.u64("entry term");
  const index = r.u64("entry index");
  if (index < 1) throw new RaftCodecError(`entry index must be >= 1, got ${index}`);
  const code = r.u8("entry type");
  const type = ENTRY_TYPES[code];
  if (type === undefined) throw new RaftCodecError(`entry ${index}: unknown type code ${code}`);
  const data = r.bytes(limits.maxEntryBytes, "entry data");
  return { term, index, type, data };
}

export function encodeEntry(e: Entry, limits: CodecLimits = DEFAULT_CODEC_LIMITS): Buffer {
  const w = new ByteWriter(32 + e.data.length);
  writeEntry(w, e, limits);
  return w.finish();
}

export function decodeEntry(bytes: Uint8Array, limits: CodecLimits = DEFAULT_CODEC_LIMITS): Entry {
  const r = new ByteReader(bytes, "log entry");
  const e = readEntry(r, limits);
  r.end();
  return e;
}

export function writeSnapshot(w: ByteWriter, s: Snapshot, limits: CodecLimits = DEFAULT_CODEC_LIMITS): void {
  w.u64(s.meta.index, "snapshot index").u64(s.meta.term, "snapshot term");
  if (s.meta.voters.length > limits.maxVoters)
    throw new RaftCodecError(`snapshot lists ${s.meta.voters.length} voters, more than ${limits.maxVoters}`);
  w.u16(s.meta.voters.length);
  for (const v of s.meta.voters) w.str(v, limits.maxIdBytes, "snapshot voter");
  w.bytes(s.data, limits.maxSnapshotBytes, "snapshot data");
}

export function readSnapshot(r: ByteReader, limits: CodecLimits = DEFAULT_CODEC_LIMITS): Snapshot {
  const index = r.u64("snapshot index");
  const term = r.u64("snapshot term");
  const n = r.u16("snapshot voter count");
  if (n > limits.maxVoters) throw new RaftCodecError(`snapshot lists ${n} voters, more than ${limits.maxVoters}`);
  const voters: string[] = [];
  for (let i = 0; i < n; i++) voters.push(r.str(limits.maxIdBytes, "snapshot voter"));
  const data = r.bytes(limits.maxSnapshotBytes, "snapshot data");
  return { meta: { index, term, voters }, data };
}

export function encodeMessage(m: Message, limits: CodecLimits = DEFAULT_CODEC_LIMITS): Buffer {
  const type = MESSAGE_TYPE_CODE.get(m.type);
  if (type === undefined) throw new RaftCodecError(`unknown message type ${m.type}`);
  if (m.entries.length > limits.maxEntries)
    throw new RaftCodecError(`message carries ${m.entries.length} entries, more than ${limits.maxEntries}`);
  let size = 128 + (m.snapshot ? m.snapshot.data.length + 64 : 0);
  for (const e of m.entries) size += 24 + e.data.length;
  const w = new ByteWriter(size);
  const flags = (m.reject ? FLAG_REJECT : 0) | (m.snapshot ? FLAG_SNAPSHOT : 0) | (m.context ? FLAG_CONTEXT : 0);
  w.u8(CODEC_VERSION).u8(type).u8(flags);
  w.str(m.clusterId, limits.maxIdBytes, "clusterId")
    .str(m.from, limits.maxIdBytes, "from")
    .str(m.to, limits.maxIdBytes, "to");
  w.u64(m.term, "term")
    .u64(m.index, "index")
    .u64(m.logTerm, "logTerm")
    .u64(m.commit, "commit")
    .u64(m.rejectHint, "rejectHint");
  w.u32(m.entries.length);
  for (const e of m.entries) writeEntry(w, e, limits);
  if (m.snapshot) writeSnapshot(w, m.snapshot, limits);
  if (m.context) w.bytes(m.context, limits.maxContextBytes, "context");
  return w.finish();
}

export function decodeMessage(bytes: Uint8Array, limits: CodecLimits = DEFAULT_CODEC_LIMITS): Message {
  const r = new ByteReader(bytes, "raft message");
  const version = r.u8("version");
  if (version !== CODEC_VERSION)
    throw new RaftCodecError(`raft message: unsupported codec version ${version} (this node speaks ${CODEC_VERSION})`);
  const typeCode = r.u8("type");
  const type = MESSAGE_TYPES[typeCode];
  if (type === undefined) throw new RaftCodecError(`raft message: unknown type code ${typeCode}`);
  const flags = r.u8("flags");
  if ((flags & ~KNOWN_FLAGS) !== 0) throw new RaftCodecError(`raft message: unknown flag bits 0x${flags.toString(16)}`);
  const clusterId = r.str(limits.maxIdBytes, "clusterId");
  const from = r.str(limits.maxIdBytes, "from");
  const to = r.str(limits.maxIdBytes, "to");
  if (from.length === 0 || to.length === 0) throw new RaftCodecError("raft message: empty from/to node id");
  const term = r.u64("term");
  const index = r.u64("index");
  const logTerm = r.u64("logTerm");
  const commit = r.u64("commit");
  const rejectHint = r.u64("rejectHint");
  const count = r.u32("entry count");
  if (count > limits.maxEntries)
    throw new RaftCodecError(`raft message: ${count} entries, more than ${limits.maxEntries}`);
  const entries: Entry[] = [];
  for (let i = 0; i < count; i++) {
    const e = readEntry(r, limits);
    const prev = entries[i - 1];
    if (prev && (e.index !== prev.index + 1 || e.term < prev.term)) {
      throw new RaftCodecError(
        `raft message: entries are not consecutive (${prev.index}@${prev.term} then ${e.index}@${e.term})`,
      );
    }
    entries.push(e);
  }
  if (type === "app" && entries.length > 0 && entries[0]!.index !== index + 1) {
    throw new RaftCodecError(`raft message: app with prevLogIndex ${index} carries entries from ${entries[0]!.index}`);
  }
  const snapshot = flags & FLAG_SNAPSHOT ? readSnapshot(r, limits) : null;
  const context = flags & FLAG_CONTEXT ? r.bytes(limits.maxContextBytes, "context") : null;
  r.end();
  return {
    type,
    clusterId,
    from,
    to,
    term,
    index,
    logTerm,
    entries,
    commit,
    reject: (flags & FLAG_REJECT) !== 0,
    rejectHint,
    snapshot,
    context,
  };
}
