import { describe, expect, it } from "vitest";
import { exitCodeOf } from "../../bin/commands/run-process.js";
import { onSignals, shellExitCode, signalExitCode } from "../../src/signals.js";

describe("shell exit codes", () => {
  it("is the code, or 128 + the signal's number", () => {
    expect(shellExitCode(0, null)).toBe(0);
    expect(shellExitCode(3, null)).toBe(3);
    expect(shellExitCode(null, "SIGKILL")).toBe(137);
    expect(signalExitCode("SIGTERM")).toBe(143);
  });

  it("run reports LiteFS ended by any signal with that signal's number (SIGUSR2 is 140, not SIGTERM's 143)", () => {
    expect(exitCodeOf({ code: null, signal: "SIGUSR2" })).toBe(128 + 12);
    expect(exitCodeOf({ code: null, signal: "SIGPIPE" })).toBe(128 + 13);
    expect(exitCodeOf({ code: null, signal: null, spawnError: new Error("ENOENT") })).toBe(127);
  });
});

describe("onSignals", () => {
  it("calls the handler with the signal's name until detached", () => {
    const seen: NodeJS.Signals[] = [];
    const before = process.listenerCount("SIGUSR2");
    const detach = onSignals(["SIGUSR2", "SIGHUP"], (signal) => seen.push(signal));
    process.emit("SIGUSR2", "SIGUSR2");
    process.emit("SIGHUP", "SIGHUP");
    detach();
    expect(seen).toEqual(["SIGUSR2", "SIGHUP"]);
    expect(process.listenerCount("SIGUSR2")).toBe(before);
  });
});
