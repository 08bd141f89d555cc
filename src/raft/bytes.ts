// Minimal big-endian binary writer/reader shared by the message codec and the log file format.
// The reader treats its input as untrusted: every read is bounds-checked and every failure names
// the field, so a bad frame or a corrupt record produces an error that says what was wrong.
import { hasErrorCode } from "../error-brand.js";

/** Thrown for malformed binary input (network frames, storage records). */
export class RaftCodecError extends Error {
  readonly code = "RAFT_CODEC";

  constructor(message: string) {
    super(message);
    this.name = "RaftCodecError";
  }
}

/** True when `e` is a RaftCodecError, by its code (works across package copies). */
export function isRaftCodecError(e: unknown): e is RaftCodecError {
  return hasErrorCode(e, "RAFT_CODEC");
}

// Indexes and terms are JS numbers; 2^53 - 1 is the largest we can represent exactly.
const TWO_32 = 0x1_0000_0000;

export class ByteWriter {
  private buf: Buffer;
  private len = 0;

  constructor(initialCapacity = 256) {
    this.buf = Buffer.allocUnsafe(initialCapacity);
  }

  private reserve(n: number): void {
    if (this.len + n <= this.buf.length) return;
    let cap = this.buf.length * 2;
    while (cap < this.len + n) cap *= 2;
    const next = Buffer.allocUnsafe(cap);
    this.buf.copy(next, 0, 0, this.len);
    this.buf = next;
  }

  u8(v: number): this {
    this.reserve(1);
    this.buf.writeUInt8(v, this.len);
    this.len += 1;
    return this;
  }

  u16(v: number): this {
    this.reserve(2);
    this.buf.writeUInt16BE(v, this.len);
    this.len += 2;
    return this;
  }

  u32(v: number): this {
    this.reserve(4);
    this.buf.writeUInt32BE(v, this.len);
    this.len += 4;
    return this;
  }

  /** A non-negative safe integer as 8 bytes (high word, low word). */
  u64(v: number, field: string): this {
    if (!Number.isSafeInteger(v) || v < 0)
      throw new RaftCodecError(`${field} must be a non-negative safe integer, got ${v}`);
    this.u32(Math.floor(v / TWO_32));
    return this.u32(v % TWO_32);
  }

  raw(bytes: Uint8Array): this {
    this.reserve(bytes.length);
    this.buf.set(bytes, this.len);
    this.len += bytes.length;
    return this;
  }

  /** u32 length + bytes. */
  bytes(bytes: Uint8Array, max: number, field: string): this {
    if (bytes.length > max) throw new RaftCodecError(`${field} is ${bytes.length} bytes, more than the limit ${max}`);
    this.u32(bytes.length);
    return this.raw(bytes);
  }

  /** u16 length + UTF-8. */
  str(s: string, maxBytes: number, field: string): this {
    const b = Buffer.from(s, "utf8");
    if (b.length > maxBytes) throw new RaftCodecError(`${field} is ${b.length} bytes, more than the limit ${maxBytes}`);
    this.u16(b.length);
    return this.raw(b);
  }

  get length(): number {
    return this.len;
  }

  /** The written bytes (a view; do not keep the writer after this). */
  finish(): Buffer {
    return this.buf.subarray(0, this.len);
  }
}

export class ByteReader {
  private pos = 0;

  constructor(
    private readonly buf: Uint8Array,
    private readonly what: string,
  ) {}

  private need(n: number, field: string): void {
    if (this.pos + n > this.buf.length) {
      throw new RaftCodecError(
        `${this.what}: truncated at ${field} (need ${n} bytes at offset ${this.pos}, have ${this.buf.length - this.pos})`,
      );
    }
  }

  u8(field: string): number {
    this.need(1, field);
    return this.buf[this.pos++]!;
  }

  u16(field: string): number {
    this.need(2, field);
    const v = (this.buf[this.pos]! << 8) | this.buf[this.pos + 1]!;
    this.pos += 2;
    return v;
  }

  u32(field: string): number {
    this.need(4, field);
    const b = this.buf;
    const p = this.pos;
    const v = b[p]! * 0x100_0000 + ((b[p + 1]! << 16) | (b[p + 2]! << 8) | b[p + 3]!);
    this.pos += 4;
    return v;
  }

  u64(field: string): number {
    const hi = this.u32(field);
    const lo = this.u32(field);
    const v = hi * TWO_32 + lo;
    if (!Number.isSafeInteger(v)) throw new RaftCodecError(`${this.what}: ${field} ${hi}:${lo} exceeds 2^53`);
    return v;
  }

  raw(n: number, field: string): Uint8Array {
    this.need(n, field);
    // Copy into a plain Uint8Array: the caller may keep the value while the frame buffer is
    // reused, and callers compare values structurally (a Buffer subclass would not be equal).
    const out = new Uint8Array(this.buf.subarray(this.pos, this.pos + n));
    this.pos += n;
    return out;
  }

  bytes(max: number, field: string): Uint8Array {
    const n = this.u32(`${field} length`);
    if (n > max) throw new RaftCodecError(`${this.what}: ${field} length ${n} exceeds the limit ${max}`);
    return this.raw(n, field);
  }

  str(maxBytes: number, field: string): string {
    const n = this.u16(`${field} length`);
    if (n > maxBytes) throw new RaftCodecError(`${this.what}: ${field} length ${n} exceeds the limit ${maxBytes}`);
    this.need(n, field);
    const s = Buffer.from(this.buf.buffer, this.buf.byteOffset + this.pos, n).toString("utf8");
    this.pos += n;
    return s;
  }

  get remaining(): number {
    return this.buf.length - this.pos;
  }

  get offset(): number {
    return this.pos;
  }

  end(): void {
    if (this.pos !== this.buf.length) {
      throw new RaftCodecError(`${this.what}: ${this.buf.length - this.pos} unexpected trailing bytes`);
    }
  }
}
