// A benchmark worker: ONE variant of one suite in its own process, timed on request from the
// parent (bench/workers.ts) over the IPC channel. Separate processes keep the variants from
// sharing a heap (one side's garbage collected during the other's round), JIT type feedback (a
// call site in drizzle-orm or the Prisma runtime that sees both sides' objects is polymorphic
// only in the benchmark, never in an application) or SQLite page cache (connections on one file
// invalidate each other's cache after every write).
//
//   forked as: node --import tsx bench/worker.ts <drizzle|prisma> <variant>
//   parent -> {type:"time", case, ms} | {type:"close"}
//   worker -> {type:"ready", cases} | {type:"result", opsPerSec} | {type:"error", message}

import { DRIZZLE_VARIANTS, openDrizzleVariant, type DrizzleVariant } from "./drizzle.js";
import { timeBox, timeBoxAsync, type AsyncOp } from "./harness.js";
import { openPrismaVariant, PRISMA_VARIANTS, type PrismaVariant } from "./prisma.js";

export type ParentMessage = { type: "time"; case: string; ms: number } | { type: "close" };
export type WorkerMessage =
  { type: "ready"; cases: string[] } | { type: "result"; opsPerSec: number } | { type: "error"; message: string };

function send(message: WorkerMessage): void {
  process.send?.(message);
}

async function main(): Promise<void> {
  if (process.send === undefined)
    throw new Error("bench/worker.ts must be started by bench/workers.ts (needs an IPC channel)");
  const [suite, variant] = process.argv.slice(2);
  let time: (caseName: string, ms: number) => Promise<number>;
  let close: () => Promise<void>;
  let caseNames: string[];
  if (suite === "drizzle" && (DRIZZLE_VARIANTS as readonly string[]).includes(variant ?? "")) {
    const subject = await openDrizzleVariant(variant as DrizzleVariant);
    time = async (caseName, ms) => timeBox(lookUp(subject.cases, caseName), ms);
    close = subject.close;
    caseNames = Object.keys(subject.cases);
  } else if (suite === "prisma" && (PRISMA_VARIANTS as readonly string[]).includes(variant ?? "")) {
    const subject = await openPrismaVariant(variant as PrismaVariant);
    time = (caseName, ms) => timeBoxAsync(lookUp<AsyncOp>(subject.cases, caseName), ms);
    close = subject.close;
    caseNames = Object.keys(subject.cases);
  } else {
    throw new Error(`bench/worker.ts: unknown suite/variant "${String(suite)}" "${String(variant)}"`);
  }
  // One request at a time: the parent waits for each answer.
  process.on("message", (message: ParentMessage) => {
    if (message.type === "close") {
      void close().then(() => process.exit(0), fail);
      return;
    }
    time(message.case, message.ms).then((opsPerSec) => send({ type: "result", opsPerSec }), fail);
  });
  // The parent went away: nothing left to measure for.
  process.on("disconnect", () => void close().finally(() => process.exit(0)));
  send({ type: "ready", cases: caseNames });
}

function lookUp<Op>(cases: Record<string, Op>, name: string): Op {
  const op = cases[name];
  if (op === undefined) throw new Error(`bench/worker.ts: unknown case "${name}" (${Object.keys(cases).join(", ")})`);
  return op;
}

function fail(error: unknown): void {
  send({ type: "error", message: error instanceof Error ? (error.stack ?? error.message) : String(error) });
  process.exit(1);
}

main().catch(fail);
