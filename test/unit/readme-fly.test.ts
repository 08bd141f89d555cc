// The README's "On Fly.io" files must be what they claim: a litefs.yml LiteFS v0.5.14 accepts once
// it has expanded Fly.io's variables, and fly.toml [env] blocks that load as consul-mode settings
// (the second one rendering the same lease as the hand-written file).
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { findUnknownLitefsKeys, loadSettings, renderLitefsConfig } from "../../src/config/index.js";
import { expandLikeLitefs } from "../support/litefs-env-expand.js";

const readme = readFileSync(new URL("../../README.md", import.meta.url), "utf8");
const section = readme.slice(
  readme.indexOf("## On Fly.io"),
  readme.indexOf("\n## ", readme.indexOf("## On Fly.io") + 1),
);

function blocks(lang: string): string[] {
  return [...section.matchAll(new RegExp("```" + lang + "\\n([\\s\\S]*?)```", "g"))].map((m) => m[1] as string);
}

/** The `[env]` table of a fly.toml block: KEY = "value" lines (values as Fly passes them, unexpanded). */
function flyEnv(toml: string): Record<string, string> {
  const env: Record<string, string> = {};
  let inEnv = false;
  for (const line of toml.split("\n")) {
    const header = /^\s*\[+([^\]]+)\]+\s*$/.exec(line);
    if (header) inEnv = header[1] === "env";
    const pair = /^\s*([A-Z_][A-Z0-9_]*)\s*=\s*"([^"]*)"\s*$/.exec(line);
    if (inEnv && pair) env[pair[1] as string] = pair[2] as string;
  }
  return env;
}

const FLY = {
  HOSTNAME: "3d8d99e4b3d268",
  FLY_APP_NAME: "my-app",
  FLY_CONSUL_URL: "https://:tok@consul-iad.fly-shared.net/my-app-x/",
  FLY_REGION: "iad",
  PRIMARY_REGION: "iad",
};

describe("README On Fly.io", () => {
  it("litefs.yml: LiteFS accepts every key, and the candidate expands to a boolean", () => {
    const [litefsYml] = blocks("yaml");
    expect(litefsYml).toBeDefined();
    const doc = parse(expandLikeLitefs(litefsYml as string, FLY)) as { lease: Record<string, unknown> };
    expect(findUnknownLitefsKeys(doc)).toEqual([]);
    expect(doc.lease).toMatchObject({
      type: "consul",
      candidate: true,
      consul: { url: FLY.FLY_CONSUL_URL, key: "litefs/my-app" },
    });
  });

  it("fly.toml [env]: consul mode with the database the litefs.yml names", () => {
    const [flyToml, rendered] = blocks("toml");
    const settings = loadSettings(undefined, flyEnv(flyToml as string));
    expect(settings).toMatchObject({ leaderElection: "consul", mountPath: "/litefs", databaseName: "db.sqlite3" });

    // The env-only variant renders the hand-written file's lease (promote aside: off by default here).
    const fromEnv = parse(
      expandLikeLitefs(renderLitefsConfig(loadSettings(undefined, flyEnv(rendered as string))), FLY),
    ) as { lease: Record<string, unknown> };
    const handWritten = parse(expandLikeLitefs(blocks("yaml")[0] as string, FLY)) as { lease: Record<string, unknown> };
    expect({ ...fromEnv.lease, promote: true }).toMatchObject(handWritten.lease);
  });
});
