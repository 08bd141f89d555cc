// Wire protocol of the Raft transport inside its TLS-PSK channel (tls-psk.ts): length-prefixed
// frames, and a first exchange that pins protocol version, cluster, both member ids and the
// storage incarnation of each side. TLS already encrypts, authenticates and orders the bytes, so
// frames carry no MAC and no sequence number.
//
//   frame    = u32 body length | body                       (length <= the current limit)
//   HELLO    = 1 | u8 version | str clusterId | str from | str to | str incarnation   (dialer)
//   WELCOME  = 2 | u8 version | str incarnation                                        (listener)
//   REFUSE   = 3 | u8 version | u8 code | str reason                                   (either)
//   DATA     = 4 | message bytes
//   PING     = 5                                          (keeps an idle connection alive)
//
// The version is the second byte of HELLO, WELCOME and REFUSE in every version, so members of
// different versions can always tell each other why they refuse.

import { hasErrorCode } from "../error-brand.js";
import { ByteReader, ByteWriter, RaftCodecError } from "./bytes.js";

/** 1 was plain TCP with HMAC frames; 2 is TLS-PSK. */
export const PROTOCOL_VERSION = 2;
/** Limit on frames before the first exchange is done: those frames are tiny. */
export const MAX_HANDSHAKE_FRAME_BYTES = 1024;
const MAX_ID_BYTES = 255;
const MAX_REASON_BYTES = 512;

const FRAME_HELLO = 1;
const FRAME_WELCOME = 2;
const FRAME_REFUSE = 3;
export const FRAME_DATA = 4;
export const FRAME_PING = 5;

/** Why a side refuses: the dialer treats `identity` as fatal (it must not keep trying). */
export const REFUSE_VERSION = 1;
export const REFUSE_CLUSTER = 2;
export const REFUSE_IDENTITY = 3;

export interface Hello {
  readonly version: number;
  readonly clusterId: string;
  readonly from: string;
  readonly to: string;
  readonly incarnation: string;
}

export interface Refusal {
  readonly version: number;
  readonly code: number;
  readonly reason: string;
}

export class FrameTooLargeError extends Error {
  readonly code = "RAFT_FRAME_TOO_LARGE";

  constructor(
    readonly size: number,
    readonly max: number,
  ) {
    super(`frame of ${size} bytes exceeds the limit of ${max} bytes`);
    this.name = "FrameTooLargeError";
  }
}

/** True when `e` is a FrameTooLargeError, by its code (works across package copies). */
export function isFrameTooLargeError(e: unknown): e is FrameTooLargeError {
  return hasErrorCode(e, "RAFT_FRAME_TOO_LARGE");
}

/** Wraps a body in a length prefix. */
export function frame(body: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(4 + body.length);
  out.writeUInt32BE(body.length, 0);
  out.set(body, 4);
  return out;
}

/**
 * Incremental frame splitter. Feeds raw socket chunks, returns complete frame bodies. Throws
 * FrameTooLargeError as soon as a length prefix announces too much, before buffering it.
 */
export class FrameDecoder {
  private chunks: Buffer[] = [];
  private buffered = 0;

  constructor(private maxFrameBytes: number) {}

  /** Raise or lower the limit (small before authentication, large after). */
  setLimit(maxFrameBytes: number): void {
    this.maxFrameBytes = maxFrameBytes;
  }

  /** Buffers a chunk and returns every complete frame body in it (under the current limit). */
  push(chunk: Buffer): Buffer[] {
    this.append(chunk);
    const out: Buffer[] = [];
    for (let body = this.next(); body !== null; body = this.next()) out.push(body);
    return out;
  }

  append(chunk: Buffer): void {
    this.chunks.push(chunk);
    this.buffered += chunk.length;
  }

  /**
   * The next complete frame body, or null. One at a time, so a limit raised or lowered after a
   * frame (e.g. at the end of a handshake) applies to the very next one.
   */
  next(): Buffer | null {
    if (this.buffered < 4) return null;
    const len = this.peek(4).readUInt32BE(0);
    if (len > this.maxFrameBytes) throw new FrameTooLargeError(len, this.maxFrameBytes);
    if (this.buffered < 4 + len) return null;
    return this.take(4 + len).subarray(4);
  }

  private peek(n: number): Buffer {
    if (this.chunks[0]!.length < n) this.chunks = [Buffer.concat(this.chunks)];
    return this.chunks[0]!.subarray(0, n);
  }

  private take(n: number): Buffer {
    if (this.chunks[0]!.length < n) this.chunks = [Buffer.concat(this.chunks)];
    const first = this.chunks[0]!;
    const out = first.subarray(0, n);
    if (first.length === n) this.chunks.shift();
    else this.chunks[0] = first.subarray(n);
    this.buffered -= n;
    return out;
  }
}

export function encodeHello(h: Hello): Buffer {
  const w = new ByteWriter(160);
  w.u8(FRAME_HELLO)
    .u8(h.version)
    .str(h.clusterId, MAX_ID_BYTES, "clusterId")
    .str(h.from, MAX_ID_BYTES, "from")
    .str(h.to, MAX_ID_BYTES, "to");
  w.str(h.incarnation, MAX_ID_BYTES, "incarnation");
  return w.finish();
}

/** The first frame a listener reads; a REFUSE is returned as such (the dialer's own version is too old/new). */
export function decodeHello(body: Uint8Array): Hello {
  const r = new ByteReader(body, "handshake hello");
  const kind = r.u8("kind");
  if (kind !== FRAME_HELLO) throw new RaftCodecError(`handshake: expected HELLO, got frame kind ${kind}`);
  const version = r.u8("version");
  if (version !== PROTOCOL_VERSION) return { version, clusterId: "", from: "", to: "", incarnation: "" };
  const clusterId = r.str(MAX_ID_BYTES, "clusterId");
  const from = r.str(MAX_ID_BYTES, "from");
  const to = r.str(MAX_ID_BYTES, "to");
  const incarnation = r.str(MAX_ID_BYTES, "incarnation");
  r.end();
  return { version, clusterId, from, to, incarnation };
}

export function encodeWelcome(incarnation: string): Buffer {
  return new ByteWriter(64)
    .u8(FRAME_WELCOME)
    .u8(PROTOCOL_VERSION)
    .str(incarnation, MAX_ID_BYTES, "incarnation")
    .finish();
}

export function encodeRefuse(code: number, reason: string): Buffer {
  const text = Buffer.from(reason, "utf8").subarray(0, MAX_REASON_BYTES).toString("utf8");
  return new ByteWriter(64 + text.length)
    .u8(FRAME_REFUSE)
    .u8(PROTOCOL_VERSION)
    .u8(code)
    .str(text, MAX_REASON_BYTES * 2, "reason")
    .finish();
}

/** The listener's answer to HELLO: its incarnation, or why it refuses. */
export function decodeAnswer(
  body: Uint8Array,
): { kind: "welcome"; version: number; incarnation: string } | ({ kind: "refuse" } & Refusal) {
  const r = new ByteReader(body, "handshake answer");
  const kind = r.u8("kind");
  const version = r.u8("version");
  if (kind === FRAME_REFUSE) {
    const code = r.u8("code");
    const reason = r.str(MAX_REASON_BYTES * 2, "reason");
    return { kind: "refuse", version, code, reason };
  }
  if (kind !== FRAME_WELCOME) throw new RaftCodecError(`handshake: expected WELCOME or REFUSE, got frame kind ${kind}`);
  if (version !== PROTOCOL_VERSION) return { kind: "welcome", version, incarnation: "" };
  const incarnation = r.str(MAX_ID_BYTES, "incarnation");
  r.end();
  return { kind: "welcome", version, incarnation };
}

export function versionMismatch(theirs: number): string {
  return `protocol version mismatch: the peer speaks Raft transport protocol ${theirs}, this member speaks ${PROTOCOL_VERSION}; run the same litefs-node version on every member`;
}

export const PING_FRAME: Buffer = frame(Buffer.from([FRAME_PING]));

export function dataFrame(message: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(5 + message.length);
  out.writeUInt32BE(1 + message.length, 0);
  out[4] = FRAME_DATA;
  out.set(message, 5);
  return out;
}
