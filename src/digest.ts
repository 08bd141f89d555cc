// SHA-256 digests and constant-time comparison, one place for both (Node's crypto, nothing home-made).

import { createHash, timingSafeEqual } from "node:crypto";

/** SHA-256 of `data` (strings as UTF-8). */
export function sha256(data: string | Uint8Array): Buffer {
  return createHash("sha256").update(data).digest();
}

/** SHA-256 of `data` as 64 lowercase hex digits. */
export function sha256Hex(data: string | Uint8Array): string {
  return sha256(data).toString("hex");
}

/**
 * Whether two secrets are equal, in time that does not depend on where they differ. Both are hashed
 * first so timingSafeEqual gets equal lengths and the length of the expected secret does not leak.
 */
export function constantTimeEqual(expected: string, given: string): boolean {
  return timingSafeEqual(sha256(expected), sha256(given));
}
