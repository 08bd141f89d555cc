// The guard's own cost, magnified: prepare + run of trivial statements on an in-memory database
// (a few microseconds each, so the guard's nanoseconds show), stock better-sqlite3 against
// GuardedDatabase with a gate shaped like the node's events-fed gate (one identity comparison).
// Not part of `npm run bench`:  npx tsx bench/micro-guard.ts
//
// - "prepare+run write": what Drizzle does per write (it prepares every query it builds):
//   GuardedDatabase.prepare (classification, guarded prototype) + the guarded run().
// - "prepare+all read": the same for a read (classified, keeps the native prototype).
// - "run write (prepared once)": the guarded run() alone.

import BetterSqlite3 from "better-sqlite3";
import { GuardedDatabase } from "../src/driver/guarded-database.js";
import { benchOptionsFromEnv, measureInterleavedSamples, pairedRows, printTable, type BenchRow } from "./harness.js";

const WRITABLE = Object.freeze({});
let verdict: object = WRITABLE;
const gate = Object.freeze({
  assertWritable(): void {
    if (verdict !== WRITABLE) throw new Error("bench: not writable");
  },
});

const stock = new BetterSqlite3(":memory:");
const guarded = new GuardedDatabase(":memory:", { gate, onRefusal: () => undefined });
for (const db of [stock, guarded]) db.exec("CREATE TABLE t (x INTEGER)");

const WRITE = "INSERT INTO t (x) VALUES (?)";
const READ = "SELECT x FROM t WHERE rowid = ?";

function cases(db: BetterSqlite3.Database): Record<string, () => unknown> {
  const prepared = db.prepare(WRITE);
  return {
    "prepare+run write": () => db.prepare(WRITE).run(1),
    "prepare+all read": () => db.prepare(READ).raw().all(1),
    "run write (prepared once)": () => prepared.run(1),
  };
}

const options = benchOptionsFromEnv();
const stockCases = cases(stock);
const guardedCases = cases(guarded);
const rows: BenchRow[] = [];
for (const name of Object.keys(stockCases)) {
  const samples = measureInterleavedSamples(
    { stock: stockCases[name] as () => unknown, events: guardedCases[name] as () => unknown },
    options,
  );
  rows.push(...pairedRows("micro", name, samples, "stock"));
  for (const db of [stock, guarded]) db.exec("DELETE FROM t");
}
verdict = WRITABLE;
printTable(rows);
stock.close();
guarded.close();
