// Two jobs every listener in this package needs: binding a server (as a promise) and reading a
// bounded body. The forwarding proxy's body reader (forward/http-io.ts) is a different job: it
// also charges a proxy-wide byte budget and keeps the body for replay.

import type { AddressInfo, Server } from "node:net";
import type { Readable } from "node:stream";

/**
 * Binds `server` (net, tls, http or https) and resolves with the bound address once it listens;
 * rejects with the bind error (EADDRINUSE, EACCES, an unknown host). No host: every interface.
 */
export function listenOn(server: Server, port: number, host?: string): Promise<AddressInfo> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve(server.address() as AddressInfo);
    });
  });
}

/**
 * The whole of `stream` when it is at most `limit` bytes, null when it is longer. A longer body is
 * still read to its end (and dropped), so the peer is not reset and can read the answer.
 */
export function readBodyUpTo(stream: Readable, limit: number): Promise<Buffer | null> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    stream.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size <= limit) chunks.push(chunk);
    });
    stream.on("end", () => resolve(size > limit ? null : Buffer.concat(chunks)));
    stream.on("error", reject);
  });
}
