// Splits a text stream into top-level JSON object texts. LiteFS's /events writes one object per
// line, but we must not depend on that: a proxy or a future version may pretty-print, and TCP
// may cut an object (or a multi-byte character) anywhere. So we track brace depth outside
// strings instead of splitting on newlines.

/** Called with the text of each complete top-level object, or with a problem in the stream. */
export interface JsonObjectSink {
  object(text: string): void;
  /** Text outside any object that is not whitespace, or an object that grew past the size limit. */
  junk(message: string): void;
}

export interface JsonObjectSplitter {
  /** Feed the next decoded text chunk. */
  push(text: string): void;
  /** True while an object has started but not ended (the stream ended mid-object if so at EOF). */
  readonly partial: boolean;
}

const DEFAULT_MAX_OBJECT_CHARS = 1 << 20;

function tooLong(max: number): string {
  return `JSON object longer than ${max} characters; dropped`;
}

export function createJsonObjectSplitter(
  sink: JsonObjectSink,
  options: { maxObjectChars?: number } = {},
): JsonObjectSplitter {
  const maxObjectChars = options.maxObjectChars ?? DEFAULT_MAX_OBJECT_CHARS;
  // Text of the object being assembled (only the part received so far).
  let pending = "";
  let depth = 0;
  let inString = false;
  let escaped = false;
  // After junk at top level we skip to the end of the line, so one bad line costs one report.
  let skippingLine = false;

  function push(text: string): void {
    let objectStart = depth > 0 ? 0 : -1;
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (depth === 0) {
        if (skippingLine) {
          if (c === 0x0a) skippingLine = false;
          continue;
        }
        if (c === 0x7b /* { */) {
          depth = 1;
          objectStart = i;
          continue;
        }
        if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) continue;
        const lineEnd = text.indexOf("\n", i);
        sink.junk(
          `unexpected text outside a JSON object: ${JSON.stringify(text.slice(i, lineEnd < 0 ? i + 40 : Math.min(lineEnd, i + 40)))}`,
        );
        skippingLine = true;
        continue;
      }
      if (inString) {
        if (escaped) escaped = false;
        else if (c === 0x5c /* \ */) escaped = true;
        else if (c === 0x22 /* " */) inString = false;
        continue;
      }
      if (c === 0x22) inString = true;
      else if (c === 0x7b || c === 0x5b /* [ */) depth++;
      else if (c === 0x7d || c === 0x5d /* } ] */) {
        depth--;
        if (depth === 0) {
          const objectText = pending + text.slice(objectStart, i + 1);
          pending = "";
          objectStart = -1;
          if (objectText.length > maxObjectChars) sink.junk(tooLong(maxObjectChars));
          else sink.object(objectText);
        }
      }
    }
    if (depth > 0) {
      pending += text.slice(objectStart);
      if (pending.length > maxObjectChars) {
        sink.junk(tooLong(maxObjectChars));
        pending = "";
        depth = 0;
        inString = false;
        escaped = false;
        skippingLine = true;
      }
    }
  }

  return {
    push,
    get partial() {
      return depth > 0;
    },
  };
}
