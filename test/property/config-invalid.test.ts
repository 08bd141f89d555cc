import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ConfigError } from "../../src/errors.js";
import { envNameOf, loadSettings, type LiteFSSettingsInput } from "../../src/config/index.js";
import {
  consulInput,
  dialAddr,
  raftInput,
  relativePath,
  segment,
  staticInput,
  validInput,
} from "./config-arbitraries.js";

type Input = LiteFSSettingsInput;

/** One way to break one setting: the setting's dotted name and how to spoil a valid input. */
interface Breakage {
  readonly setting: string;
  readonly arbitrary: fc.Arbitrary<(input: Input) => Input>;
  readonly base: fc.Arbitrary<Input>;
}

const withRaft = (input: Input, patch: Partial<NonNullable<Input["raft"]>>): Input => ({
  ...input,
  raft: { ...input.raft, ...patch },
});
const withProxy = (input: Input, patch: Partial<NonNullable<Input["proxy"]>>): Input => ({
  ...input,
  proxy: { target: "localhost:3000", ...(input.proxy ?? {}), ...patch },
});

const badPort = fc.oneof(fc.integer({ min: -100000, max: 0 }), fc.integer({ min: 65536, max: 10_000_000 }));
const whitespace = fc.constantFrom(" ", "\t", "\n", "\u00a0");
const nonElectionMode = fc.string({ maxLength: 10 }).filter((s) => s !== "static" && s !== "raft");

/** Durations people write that Go cannot read: spaces, no unit, unknown unit, words. */
const badDuration = fc.oneof(
  fc
    .tuple(
      fc.integer({ min: 1, max: 99 }),
      fc.constantFrom(" hour", " hours", " s", "d", "w", "y", "H", "sec", "min", ""),
    )
    .map(([n, u]) => `${n}${u}`),
  fc.constantFrom("", "-1s", "one hour", "1h 30m", "h"),
);

const badName = fc.oneof(
  fc.constant(""),
  fc
    .tuple(fc.stringMatching(/^[a-z]{0,5}$/), whitespace, fc.stringMatching(/^[a-z]{0,5}$/))
    .map(([a, w, b]) => `${a}${w}${b}`),
);

const breakages: Breakage[] = [
  {
    setting: "mountPath",
    base: validInput,
    arbitrary: relativePath.map((p) => (i: Input) => ({ ...i, mountPath: p })),
  },
  { setting: "dataPath", base: validInput, arbitrary: relativePath.map((p) => (i: Input) => ({ ...i, dataPath: p })) },
  {
    setting: "dataPath",
    base: validInput,
    arbitrary: fc
      .option(segment, { nil: undefined })
      .map((s) => (i: Input) => ({ ...i, dataPath: s === undefined ? i.mountPath : `${i.mountPath}/${s}` })),
  },
  {
    setting: "databaseName",
    base: validInput,
    arbitrary: fc
      .oneof(
        fc.constantFrom(".", "..", ""),
        fc.tuple(segment, segment).map(([a, b]) => `${a}/${b}`),
      )
      .map((name) => (i: Input) => ({ ...i, databaseName: name })),
  },
  { setting: "nodeId", base: validInput, arbitrary: badName.map((n) => (i: Input) => ({ ...i, nodeId: n })) },
  {
    setting: "nodeId",
    base: validInput,
    arbitrary: fc.constantFrom(null, undefined).map((n) => (i: Input) => ({ ...i, nodeId: n })),
  },
  {
    setting: "leaderElection",
    base: validInput,
    arbitrary: nonElectionMode.map((m) => (i: Input) => ({ ...i, leaderElection: m as "static" })),
  },
  {
    setting: "primaryHostname",
    base: staticInput,
    arbitrary: badName.map((n) => (i: Input) => ({ ...i, primaryHostname: n })),
  },
  {
    setting: "primaryHostname",
    base: staticInput,
    arbitrary: fc.constant((i: Input) => ({ ...i, primaryHostname: null })),
  },
  {
    setting: "primaryUrl",
    base: staticInput,
    arbitrary: fc
      .oneof(
        dialAddr,
        dialAddr.map((a) => `ftp://${a}`),
        dialAddr.map((a) => `http:/${a}`),
        fc.constant("http://"),
      )
      .map((u) => (i: Input) => ({ ...i, primaryUrl: u })),
  },
  {
    setting: "advertiseUrl",
    base: raftInput,
    arbitrary: fc
      .oneof(
        dialAddr,
        dialAddr.map((a) => `ws://${a}`),
      )
      .map((u) => (i: Input) => ({ ...i, advertiseUrl: u })),
  },
  {
    setting: "httpAddr",
    base: validInput,
    arbitrary: fc
      .oneof(
        badPort.map((p) => `:${p}`),
        fc.integer({ min: 1, max: 65535 }).map(String),
        fc.constant("localhost:"),
      )
      .map((a) => (i: Input) => ({ ...i, httpAddr: a })),
  },
  {
    setting: "consul.ttl",
    base: consulInput,
    arbitrary: fc
      .constantFrom("9s", "25h", "10", "ten")
      .map((t) => (i: Input) => ({ ...i, consul: { ...i.consul, ttl: t } })),
  },
  {
    setting: "consul.candidate",
    base: consulInput,
    arbitrary: fc
      .constantFrom("yes", "${FLY_REGION}", "${A = B}", "true")
      .map((c) => (i: Input) => ({ ...i, consul: { ...i.consul, candidate: c } })),
  },
  {
    setting: "consul.url",
    base: consulInput,
    arbitrary: fc
      .constantFrom("consul:8500", "${FLY_CONSUL_URL", "$FLY_CONSUL_URL", "http://$HOST:8500")
      .map((u) => (i: Input) => ({ ...i, consul: { ...i.consul, url: u } })),
  },
  { setting: "retention", base: validInput, arbitrary: badDuration.map((d) => (i: Input) => ({ ...i, retention: d })) },
  {
    setting: "proxy.maxLag",
    base: validInput,
    arbitrary: badDuration.map((d) => (i: Input) => withProxy(i, { maxLag: d })),
  },
  {
    setting: "proxy.addr",
    base: validInput,
    arbitrary: badPort.map((p) => (i: Input) => withProxy(i, { addr: `:${p}` })),
  },
  {
    setting: "proxy.target",
    base: validInput,
    arbitrary: fc.integer({ min: 1, max: 65535 }).map((p) => (i: Input) => withProxy(i, { target: `:${p}` })),
  },
  {
    setting: "exec",
    base: validInput,
    arbitrary: fc.constantFrom("", " ", "\t\n").map((e) => (i: Input) => ({ ...i, exec: e })),
  },
  {
    setting: "raft.leasePort",
    base: raftInput,
    arbitrary: badPort.map((p) => (i: Input) => withRaft(i, { leasePort: p })),
  },
  {
    setting: "raft.leasePort",
    base: raftInput,
    arbitrary: fc
      .double({ min: 1.01, max: 65534.99, noNaN: true })
      .filter((n) => !Number.isInteger(n))
      .map((p) => (i: Input) => withRaft(i, { leasePort: p })),
  },
  {
    setting: "raft.selfAddr",
    base: raftInput,
    arbitrary: fc
      .oneof(
        segment,
        badPort.map((p) => `node-a:${p}`),
      )
      .map((a) => (i: Input) => withRaft(i, { selfAddr: a })),
  },
  {
    setting: "raft.peers",
    base: raftInput,
    arbitrary: fc.nat().map((k) => (i: Input) => {
      const peers = i.raft!.peers!;
      return withRaft(i, { peers: [...peers, peers[k % peers.length]!] }); // a duplicate
    }),
  },
  {
    setting: "raft.peers",
    base: raftInput,
    arbitrary: fc.nat().map((k) => (i: Input) => {
      const peers = [...i.raft!.peers!];
      peers.splice(k % (peers.length + 1), 0, i.raft!.selfAddr!); // self among the peers
      return withRaft(i, { peers });
    }),
  },
  { setting: "raft.peers", base: raftInput, arbitrary: fc.constant((i: Input) => withRaft(i, { peers: [] })) },
  {
    setting: "raft.dataDir",
    base: raftInput,
    arbitrary: relativePath.map((p) => (i: Input) => withRaft(i, { dataDir: p })),
  },
  {
    setting: "raft.dataDir",
    base: raftInput,
    arbitrary: segment.map((s) => (i: Input) => withRaft(i, { dataDir: `${i.mountPath}/${s}` })),
  },
];

describe("invalid values always produce a ConfigError naming the setting", () => {
  it.each(breakages.map((b, n) => [`${b.setting} #${n}`, b] as const))("%s", (_name, breakage) => {
    fc.assert(
      fc.property(breakage.base, breakage.arbitrary, (input, spoil) => {
        const bad = spoil(input);
        let error: unknown;
        try {
          loadSettings(bad, {});
        } catch (e) {
          error = e;
        }
        expect(error).toBeInstanceOf(ConfigError);
        const config = error as ConfigError;
        const issue = config.issues.find((i) => i.setting === breakage.setting);
        expect(issue, config.message).toBeDefined();
        expect(issue!.env).toBe(envNameOf(breakage.setting));
        expect(issue!.env).not.toBeNull();
        expect(config.message).toContain(`${breakage.setting} (${issue!.env})`);
        expect(issue!.message.length).toBeGreaterThan(10);
      }),
      { numRuns: 100 },
    );
  });

  it("the same breakage through the env names the env variable", () => {
    fc.assert(
      fc.property(
        staticInput,
        badDuration.filter((d) => d.trim() !== ""),
        (input, retention) => {
          const { retention: _dropped, ...rest } = input;
          try {
            loadSettings(rest, { LITEFS_RETENTION: retention });
            expect.unreachable("expected a ConfigError");
          } catch (e) {
            expect(e).toBeInstanceOf(ConfigError);
            expect((e as ConfigError).message).toContain("retention (LITEFS_RETENTION)");
          }
        },
      ),
      { numRuns: 100 },
    );
  });

  it("two broken settings are both reported", () => {
    fc.assert(
      fc.property(validInput, relativePath, badDuration, (input, path, duration) => {
        try {
          loadSettings({ ...input, mountPath: path, retention: duration }, {});
          expect.unreachable("expected a ConfigError");
        } catch (e) {
          const settings = (e as ConfigError).issues.map((i) => i.setting);
          expect(settings).toContain("mountPath");
          expect(settings).toContain("retention");
        }
      }),
      { numRuns: 100 },
    );
  });
});
