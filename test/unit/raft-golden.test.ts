// Golden interaction tests over the pure Raft core: every script in test/raft-golden/scripts is
// replayed and its output compared with the checked-in transcript. UPDATE_GOLDEN=1 rewrites them
// (review the diff before committing).
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { runScript } from "../raft-golden/script.js";

const dir = join(fileURLToPath(new URL(".", import.meta.url)), "..", "raft-golden", "scripts");
const scripts = readdirSync(dir)
  .filter((f) => f.endsWith(".txt"))
  .sort();
const update = process.env.UPDATE_GOLDEN === "1";

describe("raft golden transcripts", () => {
  it("has the required scenarios", () => {
    for (const name of [
      "basic-election",
      "split-vote",
      "prevote-rejoin",
      "check-quorum",
      "log-conflict",
      "figure-8",
      "snapshot-catch-up",
      "read-index",
    ]) {
      expect(scripts).toContain(`${name}.txt`);
    }
  });

  for (const file of scripts) {
    it(file, () => {
      const path = join(dir, file);
      const source = readFileSync(path, "utf8");
      const result = runScript(source);
      if (update) {
        writeFileSync(path, result.actual);
        return;
      }
      for (const m of result.mismatches) {
        expect(m.actual, `output of "${m.command}" in ${file}`).toBe(m.expected);
      }
      expect(result.actual).toBe(source);
    });
  }
});
