// Reads one open `GET /events` response body: splits it into JSON objects and decodes each one
// into a LiteFS event. Connecting, reconnecting and backoff are events-client.ts's job.
import { LiteFSError } from "../errors.js";
import { decodeLiteFSEvent, type LiteFSEvent } from "./events.js";
import { createJsonObjectSplitter } from "./json-stream.js";

export interface EventStreamHandlers {
  /** Every well-formed object; `null` for an event type this package does not decode. */
  readonly decoded: (event: LiteFSEvent | null) => void;
  /** Bad JSON or junk between objects; reading carries on. */
  readonly report: (error: Error) => void;
}

/**
 * Reads until the stream ends; resolves with an error when it ended inside a JSON object, else
 * null. A failing read rejects (the caller tells an abort from a broken stream).
 */
export async function readEventStream(
  body: ReadableStream<Uint8Array>,
  url: string,
  handlers: EventStreamHandlers,
): Promise<Error | null> {
  const decoder = new TextDecoder();
  const splitter = createJsonObjectSplitter({
    object(text) {
      let decoded: LiteFSEvent | null;
      try {
        decoded = decodeLiteFSEvent(JSON.parse(text));
      } catch (error) {
        handlers.report(
          error instanceof LiteFSError
            ? error
            : new LiteFSError(
                "LITEFS_API",
                `invalid JSON on ${url}: ${error instanceof Error ? error.message : String(error)}`,
              ),
        );
        return;
      }
      handlers.decoded(decoded);
    },
    junk(message) {
      handlers.report(new LiteFSError("LITEFS_API", `${url}: ${message}`));
    },
  });
  const reader: ReadableStreamDefaultReader<Uint8Array> = body.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      splitter.push(decoder.decode(value, { stream: true }));
    }
    splitter.push(decoder.decode());
    return splitter.partial ? new LiteFSError("LITEFS_API", `${url}: stream ended inside a JSON object`) : null;
  } finally {
    reader.releaseLock();
  }
}
