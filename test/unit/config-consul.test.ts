// leaderElection "consul": LiteFS keeps its own lease in the user's Consul (Fly.io's through
// FLY_CONSUL_URL). Settings, their env variables, and the litefs.yml they render, with the
// ${VAR} references LiteFS expands passed through as written.
import { hostname } from "node:os";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { ConfigError } from "../../src/errors.js";
import {
  findUnknownLitefsKeys,
  loadSettings,
  renderLitefsConfig,
  type LiteFSSettingsInput,
} from "../../src/config/index.js";
import { expandLikeLitefs } from "../support/litefs-env-expand.js";
import { runConfigText } from "../../bin/commands/run-config.js";

/** The Epic Stack / litefs-example shape of a Fly.io node, as litefs-node settings. */
const FLY: LiteFSSettingsInput = {
  leaderElection: "consul",
  mountPath: "/litefs",
  dataPath: "/var/lib/litefs",
  advertiseUrl: "http://${HOSTNAME}.vm.${FLY_APP_NAME}.internal:20202",
  consul: { url: "${FLY_CONSUL_URL}", key: "litefs/${FLY_APP_NAME}", candidate: "${FLY_REGION == PRIMARY_REGION}" },
  exec: "npm start",
};

const FLY_ENV = {
  HOSTNAME: "3d8d99e4b3d268",
  FLY_APP_NAME: "my-app",
  FLY_CONSUL_URL: "https://:s3cr3t@consul-iad.fly-shared.net/my-app-xyz/",
};

function problems(input: LiteFSSettingsInput, env: NodeJS.ProcessEnv = {}): string[] {
  try {
    loadSettings(input, env);
  } catch (error) {
    if (error instanceof ConfigError) return error.issues.map((i) => `${i.setting}: ${i.message}`);
    throw error;
  }
  return [];
}

describe("consul mode settings", () => {
  it("defaults: nodeId is this machine's hostname (as LiteFS's), LiteFS's own consul defaults, no promote", () => {
    const settings = loadSettings({ leaderElection: "consul" }, {});
    expect(settings.nodeId).toBe(hostname());
    expect(settings.advertiseUrl).toBe(`http://${hostname()}:20202`);
    expect(settings.consul).toEqual({
      url: null,
      key: "litefs/primary",
      ttl: "10s",
      lockDelay: "1s",
      candidate: true,
      promote: false,
      leaseHostname: null,
    });
    expect(settings.raft).toBeNull();
    expect(settings.primaryHostname).toBeNull();
  });

  it("reads every consul setting from LITEFS_CONSUL_* variables, comparisons kept as text", () => {
    const settings = loadSettings(undefined, {
      LITEFS_LEADER_ELECTION: "consul",
      LITEFS_NODE_ID: "node-b",
      LITEFS_CONSUL_URL: "${FLY_CONSUL_URL}",
      LITEFS_CONSUL_KEY: "litefs/${FLY_APP_NAME}",
      LITEFS_CONSUL_TTL: "15s",
      LITEFS_CONSUL_LOCK_DELAY: "2s",
      LITEFS_CONSUL_CANDIDATE: "${FLY_REGION == PRIMARY_REGION}",
      LITEFS_CONSUL_PROMOTE: "yes",
    });
    expect(settings.consul).toEqual({
      url: "${FLY_CONSUL_URL}",
      key: "litefs/${FLY_APP_NAME}",
      ttl: "15s",
      lockDelay: "2s",
      candidate: "${FLY_REGION == PRIMARY_REGION}",
      promote: true,
      leaseHostname: "node-b",
    });
    expect(
      loadSettings(undefined, { LITEFS_LEADER_ELECTION: "consul", LITEFS_CONSUL_CANDIDATE: "false" }).consul?.candidate,
    ).toBe(false);
  });

  it("reports every bad consul value at once, naming setting and variable", () => {
    expect(
      problems({
        leaderElection: "consul",
        nodeId: "${HOSTNAME}",
        primaryHostname: "node-a",
        raft: { peers: ["node-b:4001"] },
        consul: { url: "consul:8500", key: "/litefs", ttl: "5s", lockDelay: "2m", candidate: "maybe" },
      }),
    ).toEqual([
      expect.stringMatching(/^nodeId: must not contain "\$": litefs-node uses this name itself/),
      expect.stringMatching(/^consul\.url: must be an http:\/\/ or https:\/\/ URL/),
      expect.stringMatching(/^consul\.key: must be a Consul KV key/),
      expect.stringMatching(/^consul\.ttl: must be from "10s" to "24h"/),
      expect.stringMatching(/^consul\.lockDelay: must be from "0s" to "60s"/),
      expect.stringMatching(/^consul\.candidate: must be true, false or a LiteFS comparison/),
      expect.stringMatching(/^primaryHostname: is used only when leaderElection is "static"/),
      expect.stringMatching(/^raft\.peers: is set but leaderElection is "consul"/),
    ]);
    expect(problems({ leaderElection: "consul", consul: { url: "http://${HOST:8500" } })).toEqual([
      expect.stringMatching(/^consul\.url: may hold environment references only as \$\{NAME\}/),
    ]);
    expect(problems({}, { LITEFS_LEADER_ELECTION: "consul", LITEFS_CONSUL_CANDIDATE: "perhaps" })).toEqual([
      expect.stringMatching(/^consul\.candidate: must be true\/false/),
    ]);
  });

  it("consul settings in another mode are refused", () => {
    expect(problems({ nodeId: "node-a", primaryHostname: "node-a", consul: { url: "http://127.0.0.1:8500" } })).toEqual(
      [
        expect.stringMatching(
          /^consul\.url: is set but leaderElection is "static": set leaderElection \(LITEFS_LEADER_ELECTION\) to "consul"/,
        ),
      ],
    );
  });
});

describe("consul mode litefs.yml", () => {
  it("Fly.io shape: references written through unexpanded, the candidate comparison as a plain scalar", () => {
    const text = renderLitefsConfig(loadSettings(FLY, {}));
    expect(text).toContain(`  candidate: \${FLY_REGION == PRIMARY_REGION}\n`);
    expect(text).toContain(`    url: "\${FLY_CONSUL_URL}"\n`);
    const doc = parse(text) as { lease: Record<string, unknown> };
    expect(findUnknownLitefsKeys(doc)).toEqual([]);
    expect(doc.lease).toEqual({
      type: "consul",
      "advertise-url": "http://${HOSTNAME}.vm.${FLY_APP_NAME}.internal:20202",
      candidate: "${FLY_REGION == PRIMARY_REGION}",
      promote: false,
      consul: { url: "${FLY_CONSUL_URL}", key: "litefs/${FLY_APP_NAME}", ttl: "10s", "lock-delay": "1s" },
    });
  });

  it("what LiteFS decodes after expanding it: a real boolean candidate on each side of the region check", () => {
    const text = renderLitefsConfig(loadSettings(FLY, {}));
    for (const [region, candidate] of [
      ["iad", true],
      ["lhr", false],
    ] as const) {
      const doc = parse(expandLikeLitefs(text, { ...FLY_ENV, FLY_REGION: region, PRIMARY_REGION: "iad" })) as {
        lease: Record<string, unknown>;
      };
      expect(doc.lease).toMatchObject({
        candidate,
        "advertise-url": "http://3d8d99e4b3d268.vm.my-app.internal:20202",
        consul: { url: FLY_ENV.FLY_CONSUL_URL, key: "litefs/my-app" },
      });
    }
  });

  it("lease.hostname only when nodeId was set: a defaulted one is LiteFS's to read where it runs", () => {
    const named = parse(renderLitefsConfig(loadSettings({ ...FLY, nodeId: "node-a" }, {}))) as {
      lease: Record<string, unknown>;
    };
    expect(named.lease.hostname).toBe("node-a");
    const unnamed = parse(renderLitefsConfig(loadSettings(FLY, {}))) as { lease: Record<string, unknown> };
    expect(unnamed.lease).not.toHaveProperty("hostname");
  });

  it("a literal Consul URL, promote on when asked", () => {
    const doc = parse(
      renderLitefsConfig(
        loadSettings(
          {
            leaderElection: "consul",
            nodeId: "node-a",
            consul: { url: "http://consul:8500", promote: true, candidate: false },
          },
          {},
        ),
      ),
    ) as { lease: Record<string, unknown> };
    expect(doc.lease).toEqual({
      type: "consul",
      hostname: "node-a",
      "advertise-url": "http://node-a:20202",
      candidate: false,
      promote: true,
      consul: { url: "http://consul:8500", key: "litefs/primary", ttl: "10s", "lock-delay": "1s" },
    });
  });

  it("run's lease-service token (raft mode) never goes into the user's own Consul URL", () => {
    const settings = loadSettings(
      { leaderElection: "consul", nodeId: "node-a", consul: { url: "http://consul:8500" } },
      {},
    );
    const doc = parse(runConfigText(settings, { token: "lease-service-token-0123456789", migrate: null })) as {
      lease: { consul: { url: string } };
    };
    expect(doc.lease.consul.url).toBe("http://consul:8500");
  });

  it("no Consul URL: rendering says which setting and variable to set", () => {
    expect(() => renderLitefsConfig(loadSettings({ leaderElection: "consul" }, {}))).toThrow(
      /consul\.url \(LITEFS_CONSUL_URL\): is required to render a consul lease/,
    );
  });
});
