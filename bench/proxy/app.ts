// The app behind the proxy in `npm run bench:proxy`, in its own process: GET answers a small
// JSON document, anything else reads its body and answers 201. Prints its URL, then serves until killed.
import http from "node:http";
import type { AddressInfo } from "node:net";

const READ_ANSWER = JSON.stringify({ id: 1, title: "hello", done: false });

const server = http.createServer((req, res) => {
  if (req.method === "GET" || req.method === "HEAD") {
    res.writeHead(200, { "content-type": "application/json", "content-length": Buffer.byteLength(READ_ANSWER) });
    res.end(READ_ANSWER);
    return;
  }
  let bytes = 0;
  req.on("data", (chunk: Buffer) => (bytes += chunk.length));
  req.on("end", () => {
    const answer = JSON.stringify({ created: true, bytes });
    res.writeHead(201, { "content-type": "application/json", "content-length": Buffer.byteLength(answer) });
    res.end(answer);
  });
});
server.keepAliveTimeout = 30_000;
server.listen(0, "127.0.0.1", () => {
  process.stdout.write(`app listening on http://127.0.0.1:${(server.address() as AddressInfo).port}\n`);
});
