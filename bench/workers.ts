// The parent side of bench/worker.ts: starts one process per variant and times rounds in them.

import { fork, type ChildProcess } from "node:child_process";
import { join } from "node:path";
import type { RoundTimer } from "./harness.js";
import type { ParentMessage, WorkerMessage } from "./worker.js";

/** A benchmark worker process holding one variant of one suite. */
export interface BenchWorker {
  readonly variant: string;
  /** The case names the variant offers, in order. */
  readonly cases: readonly string[];
  /** A RoundTimer for one case. */
  timer(caseName: string): RoundTimer;
  close(): Promise<void>;
}

/** Longest a worker may take to set up (seeding, generating the Prisma client) or time one round. */
const WORKER_TIMEOUT_MS = 120_000;

export async function startWorker(suite: string, variant: string): Promise<BenchWorker> {
  const child: ChildProcess = fork(join(import.meta.dirname, "worker.ts"), [suite, variant], {
    execArgv: ["--import", "tsx"],
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  let exited = false;
  child.on("exit", () => (exited = true));
  const next = (): Promise<WorkerMessage> =>
    new Promise((resolve, reject) => {
      const timeout = setTimeout(() => {
        cleanup();
        reject(new Error(`bench worker ${suite}/${variant}: no answer within ${WORKER_TIMEOUT_MS} ms`));
      }, WORKER_TIMEOUT_MS);
      const onMessage = (message: WorkerMessage) => {
        cleanup();
        if (message.type === "error") reject(new Error(`bench worker ${suite}/${variant}: ${message.message}`));
        else resolve(message);
      };
      const onExit = (code: number | null) => {
        cleanup();
        reject(new Error(`bench worker ${suite}/${variant} exited (code ${String(code)})`));
      };
      const cleanup = () => {
        clearTimeout(timeout);
        child.off("message", onMessage);
        child.off("exit", onExit);
      };
      child.on("message", onMessage);
      child.on("exit", onExit);
    });
  const request = (message: ParentMessage): void => {
    child.send(message);
  };
  let ready: WorkerMessage;
  try {
    ready = await next();
  } catch (error) {
    child.kill();
    throw error;
  }
  if (ready.type !== "ready") {
    child.kill();
    throw new Error(`bench worker ${suite}/${variant}: expected "ready", got "${ready.type}"`);
  }
  return {
    variant,
    cases: ready.cases,
    timer: (caseName) => async (ms) => {
      const answer = next();
      request({ type: "time", case: caseName, ms });
      const message = await answer;
      if (message.type !== "result")
        throw new Error(`bench worker ${suite}/${variant}: expected "result", got "${message.type}"`);
      return message.opsPerSec;
    },
    close: async () => {
      if (exited) return;
      const gone = new Promise<void>((resolve) => child.once("exit", () => resolve()));
      const timeout = setTimeout(() => child.kill("SIGKILL"), 10_000);
      request({ type: "close" });
      await gone;
      clearTimeout(timeout);
    },
  };
}
