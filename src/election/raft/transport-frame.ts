// Wire protocol of the Raft TCP transport: length-prefixed frames, a handshake that binds the
// cluster id and both node ids to fresh nonces, and an HMAC-SHA256 on every data frame.
//
//   frame      = u32 body length | body                       (length <= maxFrameBytes)
//   HELLO      = 1 | u8 version | str clusterId | str from | str to | 32-byte client nonce
//   CHALLENGE  = 2 | 32-byte server nonce | 32-byte server proof
//   AUTH       = 3 | 32-byte client proof
//   DATA       = 4 | u64 seq | message bytes | 32-byte MAC
//
//   transcript   = clusterId, from, to, client nonce, server nonce (length-prefixed)
//   server proof = HMAC(secret, "server" | transcript)      client proof = HMAC(secret, "client" | transcript)
//   session key  = HMAC(secret, "session" | transcript)     MAC = HMAC(session key, DATA body before the MAC)
//
// Why: proofs show each side knows the secret without revealing it; distinct labels stop a proof
// being reflected back. Both nonces are fresh per connection, so the session key (and every MAC)
// is unique to this connection: frames recorded on one connection fail on any other. Inside a
// connection `seq` must strictly increase, so a frame cannot be replayed or reordered either.
// Gaps are allowed on purpose: dropping a frame is something any on-path attacker can do anyway
// (by resetting the connection), and it lets the test proxy drop single messages.

import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import { ByteReader, ByteWriter, RaftCodecError } from "./bytes.js";

export const PROTOCOL_VERSION = 1;
export const NONCE_BYTES = 32;
export const MAC_BYTES = 32;
/** Limit on frames before a connection is authenticated: handshake frames are tiny. */
export const MAX_HANDSHAKE_FRAME_BYTES = 1024;
const MAX_ID_BYTES = 255;

export const FRAME_HELLO = 1;
export const FRAME_CHALLENGE = 2;
export const FRAME_AUTH = 3;
export const FRAME_DATA = 4;

export interface Hello {
  readonly version: number;
  readonly clusterId: string;
  readonly from: string;
  readonly to: string;
  readonly clientNonce: Uint8Array;
}

export class FrameTooLargeError extends Error {
  constructor(readonly size: number, readonly max: number) {
    super(`frame of ${size} bytes exceeds the limit of ${max} bytes`);
    this.name = "FrameTooLargeError";
  }
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

export function newNonce(): Buffer {
  return randomBytes(NONCE_BYTES);
}

export function encodeHello(h: Hello): Buffer {
  const w = new ByteWriter(128);
  w.u8(FRAME_HELLO).u8(h.version).str(h.clusterId, MAX_ID_BYTES, "clusterId").str(h.from, MAX_ID_BYTES, "from").str(h.to, MAX_ID_BYTES, "to").raw(h.clientNonce);
  return w.finish();
}

export function decodeHello(body: Uint8Array): Hello {
  const r = new ByteReader(body, "handshake hello");
  const kind = r.u8("kind");
  if (kind !== FRAME_HELLO) throw new RaftCodecError(`handshake: expected HELLO, got frame kind ${kind}`);
  const version = r.u8("version");
  const clusterId = r.str(MAX_ID_BYTES, "clusterId");
  const from = r.str(MAX_ID_BYTES, "from");
  const to = r.str(MAX_ID_BYTES, "to");
  const clientNonce = r.raw(NONCE_BYTES, "client nonce");
  r.end();
  return { version, clusterId, from, to, clientNonce };
}

function transcript(h: Hello, serverNonce: Uint8Array): Buffer {
  const w = new ByteWriter(160);
  w.str(h.clusterId, MAX_ID_BYTES, "clusterId").str(h.from, MAX_ID_BYTES, "from").str(h.to, MAX_ID_BYTES, "to").raw(h.clientNonce).raw(serverNonce);
  return w.finish();
}

function hmac(key: Uint8Array | string, label: string, data: Uint8Array): Buffer {
  return createHmac("sha256", key).update(label).update("\0").update(data).digest();
}

export interface HandshakeKeys {
  readonly serverProof: Buffer;
  readonly clientProof: Buffer;
  readonly sessionKey: Buffer;
}

export function handshakeKeys(secret: string, hello: Hello, serverNonce: Uint8Array): HandshakeKeys {
  const t = transcript(hello, serverNonce);
  return {
    serverProof: hmac(secret, "litefs-raft/server", t),
    clientProof: hmac(secret, "litefs-raft/client", t),
    sessionKey: hmac(secret, "litefs-raft/session", t),
  };
}

export function encodeChallenge(serverNonce: Uint8Array, serverProof: Uint8Array): Buffer {
  return Buffer.concat([Buffer.from([FRAME_CHALLENGE]), serverNonce, serverProof]);
}

export function decodeChallenge(body: Uint8Array): { serverNonce: Uint8Array; serverProof: Uint8Array } {
  const r = new ByteReader(body, "handshake challenge");
  const kind = r.u8("kind");
  if (kind !== FRAME_CHALLENGE) throw new RaftCodecError(`handshake: expected CHALLENGE, got frame kind ${kind}`);
  const serverNonce = r.raw(NONCE_BYTES, "server nonce");
  const serverProof = r.raw(MAC_BYTES, "server proof");
  r.end();
  return { serverNonce, serverProof };
}

export function encodeAuth(clientProof: Uint8Array): Buffer {
  return Buffer.concat([Buffer.from([FRAME_AUTH]), clientProof]);
}

export function decodeAuth(body: Uint8Array): Uint8Array {
  const r = new ByteReader(body, "handshake auth");
  const kind = r.u8("kind");
  if (kind !== FRAME_AUTH) throw new RaftCodecError(`handshake: expected AUTH, got frame kind ${kind}`);
  const proof = r.raw(MAC_BYTES, "client proof");
  r.end();
  return proof;
}

/** Constant-time comparison; different lengths are simply unequal. */
export function macEqual(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

export function sealData(sessionKey: Uint8Array, seq: number, payload: Uint8Array): Buffer {
  const w = new ByteWriter(payload.length + 9 + MAC_BYTES);
  w.u8(FRAME_DATA).u64(seq, "seq").raw(payload);
  const unsigned = w.finish();
  const mac = createHmac("sha256", sessionKey).update(unsigned).digest();
  return Buffer.concat([unsigned, mac]);
}

/** Verifies and opens a DATA body; returns null when the MAC or the shape is wrong. */
export function openData(sessionKey: Uint8Array, body: Buffer): { seq: number; payload: Buffer } | null {
  if (body.length < 9 + MAC_BYTES || body[0] !== FRAME_DATA) return null;
  const unsigned = body.subarray(0, body.length - MAC_BYTES);
  const mac = body.subarray(body.length - MAC_BYTES);
  const want = createHmac("sha256", sessionKey).update(unsigned).digest();
  if (!macEqual(want, mac)) return null;
  const hi = body.readUInt32BE(1);
  const lo = body.readUInt32BE(5);
  const seq = hi * 0x1_0000_0000 + lo;
  if (!Number.isSafeInteger(seq)) return null;
  return { seq, payload: unsigned.subarray(9) };
}
