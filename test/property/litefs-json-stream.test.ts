import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { createJsonObjectSplitter } from "../../src/litefs/json-stream.js";

// Any stream of JSON objects (compact or pretty-printed, any whitespace between them), cut into
// arbitrary byte chunks (cutting UTF-8 characters too) and decoded as the events client does,
// yields exactly the objects that were written, in order, and no junk.
const jsonObject = fc.dictionary(fc.string({ unit: "binary" }), fc.jsonValue({ maxDepth: 3 }), { maxKeys: 5 });
const separator = fc.constantFrom("\n", "", " ", "\r\n", "\n\n", "\t");

describe("JSON object splitter over arbitrary chunkings", () => {
  it("recovers every object", () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(jsonObject, fc.boolean(), separator), { maxLength: 8 }),
        fc.array(fc.integer({ min: 1, max: 64 }), { minLength: 1, maxLength: 20 }),
        (items, cuts) => {
          const text = items
            .map(([obj, pretty, sep]) => JSON.stringify(obj, null, pretty ? 2 : undefined) + sep)
            .join("");
          const bytes = Buffer.from(text, "utf8");
          const objects: unknown[] = [];
          const junk: string[] = [];
          const splitter = createJsonObjectSplitter({
            object: (t) => objects.push(JSON.parse(t)),
            junk: (m) => junk.push(m),
          });
          const decoder = new TextDecoder();
          let offset = 0;
          for (let i = 0; offset < bytes.length; i++) {
            const size = cuts[i % cuts.length]!;
            splitter.push(decoder.decode(bytes.subarray(offset, offset + size), { stream: true }));
            offset += size;
          }
          splitter.push(decoder.decode());
          expect(junk).toEqual([]);
          expect(splitter.partial).toBe(false);
          // JSON.parse(JSON.stringify(x)) normalizes -0 and such, the same on both sides.
          expect(objects).toEqual(items.map(([obj]) => JSON.parse(JSON.stringify(obj))));
        },
      ),
      { numRuns: 300 },
    );
  });
});
