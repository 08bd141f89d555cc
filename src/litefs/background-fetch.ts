// A fetch for background streams: GET over node:http whose socket does not keep the process
// alive. The /events subscription is background work: a script that wrote its rows and did not
// call $close()/$disconnect() must still exit (global fetch's sockets cannot be unref'd).
import { request as httpRequest, type IncomingMessage } from "node:http";
import { request as httpsRequest } from "node:https";
import { Readable } from "node:stream";

interface StreamRequestInit {
  readonly signal?: AbortSignal;
  readonly headers?: Record<string, string>;
}

/** What a stream subscriber needs of fetch; global `fetch` fits it too. */
export type StreamFetch = (url: string, init: StreamRequestInit) => Promise<Response>;

// Statuses whose Response may not carry a body (the Response constructor throws otherwise).
const NULL_BODY = new Set([101, 204, 205, 304]);

function toResponse(res: IncomingMessage): Response {
  const status = res.statusCode ?? 502;
  const headers = new Headers();
  for (const [name, value] of Object.entries(res.headers)) {
    if (value === undefined) continue;
    for (const item of Array.isArray(value) ? value : [value]) headers.append(name, item);
  }
  if (NULL_BODY.has(status)) {
    res.resume();
    return new Response(null, { status, headers });
  }
  return new Response(Readable.toWeb(res) as ReadableStream<Uint8Array>, { status, headers });
}

/** GET `url` with an unref'd socket; aborting `init.signal` destroys the request or the body stream. */
export const backgroundFetch: StreamFetch = (url, init) =>
  new Promise<Response>((resolve, reject) => {
    const request = new URL(url).protocol === "https:" ? httpsRequest : httpRequest;
    const req = request(url, { method: "GET", headers: init.headers, signal: init.signal, agent: false });
    req.on("socket", (socket) => socket.unref());
    req.once("response", (res) => resolve(toResponse(res)));
    req.once("error", reject);
    req.end();
  });
