// Runs `litefs-node run` in a child process for tests (until the lead registers it in bin/commands).
// Exits when stdin closes (the test process died) or after 90 s.
import { runCommand } from "../../../bin/commands/run.js";

setTimeout(() => process.exit(3), 90_000).unref();
process.stdin.on("close", () => process.exit(0));
process.stdin.resume();
runCommand(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e: unknown) => {
    process.stderr.write(`run failed: ${(e as Error).stack ?? String(e)}\n`);
    process.exit(1);
  },
);
