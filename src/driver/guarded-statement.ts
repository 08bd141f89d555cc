// How a prepared statement gets its guard without costing anything per call.
//
// better-sqlite3 returns a native Statement object. Instead of wrapping it (an allocation per
// prepare, and a wrapper that `raw()`/`bind()` would bypass by returning the inner `this`), a
// statement that needs a guard gets a different prototype: one that inherits everything from the
// native prototype and overrides run/get/all/iterate. Switching the prototype of a fresh object is
// a cached map transition in V8: no allocation, no per-statement closures. `raw()`, `bind()`,
// `pluck()`, `expand()` and `safeIntegers()` return `this`, so the guard stays. Read statements
// keep the native prototype: zero overhead.
//
// One prototype per kind of guard:
// - guarded (write, write-start): gate checked before every execution; the database notes that
//   a write may be pending in its transaction. iterate() checks at the first step, which is when
//   SQLite runs the statement.
// - begin (BEGIN deferred, SAVEPOINT): when it opens a transaction, that transaction has not
//   written yet.
// - end (COMMIT, END, RELEASE): when the open transaction may have written, the gate is asked
//   first; refused, the whole transaction is rolled back, so nothing it wrote lands.
// - translated (ROLLBACK): no check (runs on replicas).
// All of them translate LiteFS refusals (refusal.ts).

import type { StatementKind } from "./classify.js";
import { assertWritableFor, translateRefusalFor, type GuardHost } from "./refusal.js";

type NativeMethod = (this: unknown, ...args: unknown[]) => unknown;

/** What a guarded method needs from `this`: better-sqlite3 sets `stmt.database` to the Database. */
interface StatementOfGuardedDatabase {
  readonly database: GuardHost;
}

export type StatementGuard = "guarded" | "begin" | "end" | "translated";

type StatementPrototypes = Readonly<Record<StatementGuard, object>>;

const EXECUTING_METHODS = ["run", "get", "all", "iterate"] as const;
type ExecutingMethod = (typeof EXECUTING_METHODS)[number];

// Keyed by the native Statement prototype: one per loaded better-sqlite3 addon (the `nativeBinding`
// option can load another).
const prototypesByNative = new WeakMap<object, StatementPrototypes>();

const GUARD_OF_KIND: Readonly<Record<Exclude<StatementKind, "read">, StatementGuard>> = {
  write: "guarded",
  "write-start": "guarded",
  "tx-begin": "begin",
  "tx-end": "end",
  "tx-rollback": "translated",
};

/**
 * Gives `stmt` the prototype its kind needs. Read statements are returned untouched. Must be called
 * once, right after preparing, on a statement of a database that is a GuardHost.
 */
export function applyStatementGuard<S extends object>(stmt: S, kind: StatementKind): S {
  if (kind === "read") return stmt;
  const native = Object.getPrototypeOf(stmt) as object;
  // Nearly every process loads one addon: remember the last one and skip the WeakMap lookup.
  let prototypes = native === lastNative ? lastPrototypes : prototypesByNative.get(native);
  if (prototypes === undefined) {
    prototypes = {
      guarded: derivePrototype(native, (name, method) => (name === "iterate" ? guardFirstStep(method) : guard(method))),
      begin: derivePrototype(native, (name, method) => (name === "run" ? beginning(method) : translateOnly(method))),
      end: derivePrototype(native, (name, method) => (name === "run" ? ending(method) : translateOnly(method))),
      translated: derivePrototype(native, (_name, method) => translateOnly(method)),
    };
    prototypesByNative.set(native, prototypes);
  }
  lastNative = native;
  lastPrototypes = prototypes;
  Object.setPrototypeOf(stmt, prototypes[GUARD_OF_KIND[kind]]);
  return stmt;
}

let lastNative: object | null = null;
let lastPrototypes: StatementPrototypes | undefined;

/** The guard a statement got from applyStatementGuard (derived from its prototype). */
export function guardOf(stmt: object): StatementGuard | "none" {
  const proto = Object.getPrototypeOf(stmt) as object | null;
  const parent = proto === null ? null : (Object.getPrototypeOf(proto) as object | null);
  const prototypes = parent === null ? undefined : prototypesByNative.get(parent);
  if (prototypes === undefined) return "none";
  for (const guardKind of Object.keys(prototypes) as StatementGuard[]) {
    if (prototypes[guardKind] === proto) return guardKind;
  }
  return "none";
}

function derivePrototype(native: object, wrap: (name: ExecutingMethod, method: NativeMethod) => NativeMethod): object {
  const proto = Object.create(native) as Record<string, unknown>;
  for (const name of EXECUTING_METHODS) {
    const method = (native as Record<string, unknown>)[name];
    if (typeof method !== "function") throw new TypeError(`better-sqlite3 Statement has no ${name}() method`);
    Object.defineProperty(proto, name, {
      value: wrap(name, method as NativeMethod),
      writable: true,
      configurable: true,
      enumerable: false,
    });
  }
  return proto;
}

// These closures are created once per native prototype, never per statement or per call.
// `method.apply(this, arguments)` is V8's allocation-free forwarding form.
//
// Why not skip the check for writes inside a write transaction (the COMMIT check decides what
// lands)? Knowing that a write transaction is still open takes a native call (`inTransaction`:
// SQLite may have rolled the transaction back on an error we never saw, and a write that then
// skipped the check would run in autocommit mode, unchecked). That call costs more than the
// events-fed gate's whole check, and the file-fallback gate caches its verdict instead
// (node-state.ts), so the skip would buy nothing.

function guard(method: NativeMethod): NativeMethod {
  return function guardedExecution(this: StatementOfGuardedDatabase) {
    const database = this.database;
    assertWritableFor(database);
    database.writeMayBePending = true;
    try {
      // eslint-disable-next-line prefer-rest-params
      return method.apply(this, arguments as unknown as unknown[]);
    } catch (error) {
      throw translateRefusalFor(database, error);
    }
  } as NativeMethod;
}

/**
 * iterate() of a write (`INSERT ... RETURNING`): better-sqlite3 binds the parameters when the
 * iterator is made, and SQLite runs the statement at the first next(). The gate is asked there,
 * so a node demoted in between is refused. This allocates a small iterator per call, for a rare
 * case: iterating the rows of a RETURNING write.
 */
function guardFirstStep(method: NativeMethod): NativeMethod {
  return function guardedIterate(this: StatementOfGuardedDatabase) {
    const database = this.database;
    // eslint-disable-next-line prefer-rest-params
    const rows = method.apply(this, arguments as unknown as unknown[]) as IterableIterator<unknown>;
    return new FirstStepGuardedIterator(database, rows);
  } as NativeMethod;
}

class FirstStepGuardedIterator implements IterableIterator<unknown> {
  #checked = false;
  constructor(
    private readonly database: GuardHost,
    private readonly rows: IterableIterator<unknown>,
  ) {}

  next(): IteratorResult<unknown> {
    const database = this.database;
    if (!this.#checked) {
      try {
        assertWritableFor(database);
      } catch (error) {
        this.rows.return?.(); // frees the statement (and the connection) for other work
        throw error;
      }
      this.#checked = true;
      database.writeMayBePending = true;
    }
    try {
      return this.rows.next();
    } catch (error) {
      throw translateRefusalFor(database, error);
    }
  }

  return(value?: unknown): IteratorResult<unknown> {
    return this.rows.return?.(value) ?? { done: true, value };
  }

  [Symbol.iterator](): IterableIterator<unknown> {
    return this;
  }
}

/** BEGIN / SAVEPOINT: a transaction it opens has written nothing yet. */
function beginning(method: NativeMethod): NativeMethod {
  return function beginningExecution(this: StatementOfGuardedDatabase) {
    const database = this.database;
    if (!database.inTransaction) database.writeMayBePending = false;
    try {
      // eslint-disable-next-line prefer-rest-params
      return method.apply(this, arguments as unknown as unknown[]);
    } catch (error) {
      throw translateRefusalFor(database, error);
    }
  } as NativeMethod;
}

/**
 * COMMIT / END / RELEASE. When the open transaction may hold a write, the gate decides first: a node
 * demoted (or in split brain) since the write must not land it, and LiteFS alone would not stop
 * it in split brain. Refused, the transaction is rolled back. A RELEASE of an inner savepoint lands
 * nothing yet, but its transaction can no longer commit here either, so it is ended the same way.
 * A transaction without writes (a read transaction on a replica) commits without asking.
 */
function ending(method: NativeMethod): NativeMethod {
  return function endingExecution(this: StatementOfGuardedDatabase) {
    const database = this.database;
    if (database.writeMayBePending && database.inTransaction) {
      try {
        assertWritableFor(database);
      } catch (error) {
        database.rollBackRefusedTransaction();
        throw error;
      }
    }
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
