// Runs `litefs-node lease-server` in a child process for tests, bounded: exits when stdin closes
// (the test process died) or after LEASE_TEST_LIFETIME_MS (default 120 s).
import { leaseServerCommand } from "../../../bin/commands/lease-server.js";

const lifetime = setTimeout(() => process.exit(3), Number(process.env["LEASE_TEST_LIFETIME_MS"] ?? 120_000));
lifetime.unref();
process.stdin.on("end", () => process.exit(0));
process.stdin.on("close", () => process.exit(0));
process.stdin.resume();

leaseServerCommand(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e: unknown) => {
    process.stderr.write(`lease-server failed: ${(e as Error).stack ?? String(e)}\n`);
    process.exit(1);
  },
);
