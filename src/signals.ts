// Passing the signals a process gets on to a child, and a child's end as a shell exit status: one
// place for `litefs-node run` (LiteFS as the child) and the migration command runner. Each caller
// keeps its own list of signals (see there for why they differ).

import { constants } from "node:os";

/** 128 + the signal's number: how a shell reports a process a signal ended. */
export function signalExitCode(signal: NodeJS.Signals): number {
  const number = (constants.signals as Record<string, number | undefined>)[signal];
  return 128 + (number ?? 0);
}

/** A child's exit status in the shell's convention: its code, or 128 + the number of the signal that ended it. */
export function shellExitCode(code: number | null, signal: NodeJS.Signals | null): number {
  if (code !== null) return code;
  return signal ? signalExitCode(signal) : 1;
}

/** Calls `handler` for each of `signals` this process gets, until the returned function is called. */
export function onSignals(signals: readonly NodeJS.Signals[], handler: (signal: NodeJS.Signals) => void): () => void {
  const listeners = signals.map((signal) => {
    const listener = (): void => handler(signal);
    process.on(signal, listener);
    return [signal, listener] as const;
  });
  return () => {
    for (const [signal, listener] of listeners) process.off(signal, listener);
  };
}
