// Ephemeral loopback ports for tests that must know a port before the listener exists (a Raft
// node's address is in its peers' configuration). Bind port 0, read it, release it.
import { createServer } from "node:net";

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const a = s.address();
      const port = a && typeof a === "object" ? a.port : 0;
      s.close(() => resolve(port));
    });
  });
}

export const net = { freePort };
