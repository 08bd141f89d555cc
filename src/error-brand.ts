// What makes an error of this package recognisable from any copy of the package (src/errors.ts
// says the convention). Internal: the public guards (isNotPrimaryError, ...) are built on it.

/**
 * The brand every LiteFSError carries: its class name under a `Symbol.for` key, which is the same
 * symbol in every copy of the package (the global symbol registry is per process, not per module).
 */
export const ERROR_BRAND: unique symbol = Symbol.for("litefs-node.error");

/** The class name a litefs-node error of any copy of the package was made with, or null. */
export function litefsErrorClass(e: unknown): string | null {
  if (e === null || typeof e !== "object") return null;
  const brand = (e as { [ERROR_BRAND]?: unknown })[ERROR_BRAND];
  return typeof brand === "string" ? brand : null;
}

/** True when `e` is an object whose `code` is `code` (an error of any copy of this package). */
export function hasErrorCode(e: unknown, code: string): boolean {
  return e !== null && typeof e === "object" && (e as { code?: unknown }).code === code;
}
