// WebSocket (and any other HTTP/1.1 Upgrade) pass-through to the local upstream: the handshake is
// relayed byte for byte, then both sockets are piped into each other untouched.
import http, { type IncomingMessage } from "node:http";
import https from "node:https";
import type { Duplex } from "node:stream";
import { setForwardedHeaders, type TrustedPeers } from "./forwarded-headers.js";
import { endToEndHeaders } from "./http-io.js";
import { upstreamUrl } from "./upstream.js";

function rawHead(statusLine: string, rawHeaders: readonly string[]): string {
  let head = `${statusLine}\r\n`;
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) head += `${rawHeaders[i]}: ${rawHeaders[i + 1]}\r\n`;
  return `${head}\r\n`;
}

/** Answers an upgrade request with a plain HTTP error (the socket is not upgraded) and closes it. */
export function refuseUpgrade(
  socket: Duplex,
  status: number,
  reason: string,
  headers: Readonly<Record<string, string>> = {},
): void {
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  let extra = "";
  for (const [name, value] of Object.entries(headers)) extra += `${name}: ${value}\r\n`;
  socket.end(
    `HTTP/1.1 ${status} ${http.STATUS_CODES[status] ?? ""}\r\ncontent-type: text/plain; charset=utf-8\r\ncontent-length: ${Buffer.byteLength(reason) + 1}\r\n${extra}connection: close\r\n\r\n${reason}\n`,
  );
}

export function passUpgrade(
  base: string,
  req: IncomingMessage,
  socket: Duplex,
  head: Buffer,
  connectTimeoutMs: number,
  trusted: TrustedPeers,
): void {
  const url = upstreamUrl(base, req.url ?? "/");
  const client = url.protocol === "https:" ? https : http;
  const headers = endToEndHeaders(req.headers);
  setForwardedHeaders(headers, req, trusted);
  // The upgrade itself rides on Connection/Upgrade, which endToEndHeaders drops: put them back.
  headers["connection"] = "Upgrade";
  headers["upgrade"] = req.headers.upgrade ?? "websocket";
  const outgoing = client.request(url, { method: req.method ?? "GET", headers, agent: false });
  const timer = setTimeout(() => {
    outgoing.destroy();
    refuseUpgrade(socket, 502, `no connection to ${url.origin} within ${connectTimeoutMs} ms`);
  }, connectTimeoutMs);
  socket.on("error", () => outgoing.destroy());
  // Only connecting is timed: an app may take its time to answer the handshake.
  outgoing.on("socket", (upstream) => {
    if (!upstream.connecting) clearTimeout(timer);
    else upstream.once(url.protocol === "https:" ? "secureConnect" : "connect", () => clearTimeout(timer));
  });

  outgoing.on("upgrade", (response, upstreamSocket, upstreamHead) => {
    clearTimeout(timer);
    socket.write(
      rawHead(
        `HTTP/1.1 ${response.statusCode ?? 101} ${response.statusMessage ?? "Switching Protocols"}`,
        response.rawHeaders,
      ),
    );
    if (upstreamHead.length > 0) socket.write(upstreamHead);
    if (head.length > 0) upstreamSocket.write(head);
    upstreamSocket.on("error", () => socket.destroy());
    socket.on("error", () => upstreamSocket.destroy());
    upstreamSocket.on("close", () => socket.destroy());
    socket.on("close", () => upstreamSocket.destroy());
    upstreamSocket.pipe(socket);
    socket.pipe(upstreamSocket);
  });
  outgoing.on("response", (response) => {
    // The app declined the upgrade: relay its ordinary answer and close.
    clearTimeout(timer);
    // Its body arrives decoded, so drop the framing headers and delimit it by closing the socket.
    const kept: string[] = [];
    for (let i = 0; i + 1 < response.rawHeaders.length; i += 2) {
      const name = (response.rawHeaders[i] ?? "").toLowerCase();
      if (name === "transfer-encoding" || name === "content-length" || name === "connection" || name === "keep-alive")
        continue;
      kept.push(response.rawHeaders[i] ?? "", response.rawHeaders[i + 1] ?? "");
    }
    socket.write(
      rawHead(`HTTP/1.1 ${response.statusCode ?? 502} ${response.statusMessage ?? ""}`, [
        ...kept,
        "connection",
        "close",
      ]),
    );
    response.pipe(socket);
  });
  outgoing.on("error", (error) => {
    clearTimeout(timer);
    refuseUpgrade(socket, 502, `upgrade to ${url.origin} failed: ${error.message}`);
  });
  outgoing.end();
}
