// How a prepared statement gets its guard without costing anything per call.
//
// better-sqlite3 returns a native Statement object. Instead of wrapping it (an allocation per
// prepare, and a wrapper that `raw()`/`bind()` would bypass by returning the inner `this`), a
// mutating statement gets a different prototype: one that inherits everything from the native
// prototype and overrides run/get/all/iterate with "check the gate, then call the native method".
// Switching the prototype of a fresh object is a cached map transition in V8: no allocation, no
// per-statement closures. `raw()`, `bind()`, `pluck()`, `expand()` and `safeIntegers()` return
// `this`, so the guard stays. Read statements keep the native prototype: zero overhead.

import type { StatementKind } from "./classify.js";
import { assertWritableFor, translateRefusalFor, type RefusalHost } from "./refusal.js";

type NativeMethod = (this: unknown, ...args: unknown[]) => unknown;

/** What a guarded method needs from `this`: better-sqlite3 sets `stmt.database` to the Database. */
interface StatementOfGuardedDatabase {
  readonly database: RefusalHost;
}

interface StatementPrototypes {
  /** write / write-start: gate checked before every execution, LiteFS refusals translated. */
  readonly guarded: object;
  /** tx-control: no gate check (runs on replicas), LiteFS refusals (e.g. at COMMIT) translated. */
  readonly translated: object;
}

const EXECUTING_METHODS = ["run", "get", "all", "iterate"] as const;

// Keyed by the native Statement prototype: one per loaded better-sqlite3 addon (the `nativeBinding`
// option can load another).
const prototypesByNative = new WeakMap<object, StatementPrototypes>();

/**
 * Gives `stmt` the prototype its kind needs. Read statements are returned untouched. Must be called
 * once, right after preparing, on a statement of a database that has a `gate`.
 */
export function applyStatementGuard<S extends object>(stmt: S, kind: StatementKind): S {
  if (kind === "read") return stmt;
  const native = Object.getPrototypeOf(stmt) as object;
  // Nearly every process loads one addon: remember the last one and skip the WeakMap lookup.
  let prototypes = native === lastNative ? lastPrototypes : prototypesByNative.get(native);
  if (prototypes === undefined) {
    prototypes = { guarded: derivePrototype(native, guard), translated: derivePrototype(native, translateOnly) };
    prototypesByNative.set(native, prototypes);
  }
  lastNative = native;
  lastPrototypes = prototypes;
  Object.setPrototypeOf(stmt, kind === "tx-control" ? prototypes.translated : prototypes.guarded);
  return stmt;
}

let lastNative: object | null = null;
let lastPrototypes: StatementPrototypes | undefined;

/** The guard kind a statement got from applyStatementGuard (derived from its prototype). */
export function guardOf(stmt: object): "guarded" | "translated" | "none" {
  const proto = Object.getPrototypeOf(stmt) as object | null;
  const parent = proto === null ? null : (Object.getPrototypeOf(proto) as object | null);
  const prototypes = parent === null ? undefined : prototypesByNative.get(parent);
  if (prototypes?.guarded === proto) return "guarded";
  if (prototypes?.translated === proto) return "translated";
  return "none";
}

function derivePrototype(native: object, wrap: (method: NativeMethod) => NativeMethod): object {
  const proto = Object.create(native) as Record<string, unknown>;
  for (const name of EXECUTING_METHODS) {
    const method = (native as Record<string, unknown>)[name];
    if (typeof method !== "function") throw new TypeError(`better-sqlite3 Statement has no ${name}() method`);
    Object.defineProperty(proto, name, {
      value: wrap(method as NativeMethod),
      writable: true,
      configurable: true,
      enumerable: false,
    });
  }
  return proto;
}

// These closures are created once per native prototype, never per statement or per call.
// iterate(): the gate is checked when the iterator is created; SQLite runs the statement on the
// first next(), and errors raised there are not translated (wrapping the iterator would allocate
// per call, for a rare case: iterating the rows of a RETURNING write).
// `method.apply(this, arguments)` is V8's allocation-free forwarding form.

function guard(method: NativeMethod): NativeMethod {
  return function guardedExecution(this: StatementOfGuardedDatabase) {
    const database = this.database;
    assertWritableFor(database);
    try {
      // eslint-disable-next-line prefer-rest-params
      return method.apply(this, arguments as unknown as unknown[]);
    } catch (error) {
      throw translateRefusalFor(database, error);
    }
  } as NativeMethod;
}

function translateOnly(method: NativeMethod): NativeMethod {
  return function translatedExecution(this: StatementOfGuardedDatabase) {
    try {
      // eslint-disable-next-line prefer-rest-params
      return method.apply(this, arguments as unknown as unknown[]);
    } catch (error) {
      throw translateRefusalFor(this.database, error);
    }
  } as NativeMethod;
}
