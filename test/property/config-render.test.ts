import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import {
  findUnknownLitefsKeys,
  loadSettings,
  renderLitefsConfig,
  SETTINGS_REFERENCE,
  type LiteFSSettings,
} from "../../src/config/index.js";
import { hostname } from "node:os";
import { consulInput, raftInput, staticInput, validInput } from "./config-arbitraries.js";

/** Every valid mode, consul included (validInput leaves it out for the invalid-value properties). */
const anyInput = fc.oneof(validInput, consulInput);

const RUNS = { numRuns: 300 };

interface RenderedDoc {
  fuse: { dir: unknown };
  data: { dir: unknown; retention: unknown };
  http: { addr: unknown };
  proxy?: { addr: unknown; target: unknown; db: unknown; passthrough?: unknown; "max-lag"?: unknown };
  exec?: unknown;
  lease: Record<string, unknown>;
}

function roundTrip(settings: LiteFSSettings): RenderedDoc {
  return parse(renderLitefsConfig(settings)) as RenderedDoc;
}

function httpPort(settings: LiteFSSettings): number {
  return Number(settings.httpAddr.slice(settings.httpAddr.lastIndexOf(":") + 1));
}

/** Where each setting must appear in litefs.yml, checked key by key against the parsed YAML. */
function expectEverySettingInPlace(settings: LiteFSSettings, doc: RenderedDoc): void {
  expect(doc.fuse).toEqual({ dir: settings.mountPath });
  expect(doc.data).toEqual({ dir: settings.dataPath, retention: settings.retention });
  expect(doc.http).toEqual({ addr: settings.httpAddr });

  if (settings.proxy === null) expect(doc).not.toHaveProperty("proxy");
  else {
    const expected: Record<string, unknown> = {
      addr: settings.proxy.addr,
      target: settings.proxy.target,
      db: settings.proxy.db,
    };
    if (settings.proxy.passthrough.length > 0) expected.passthrough = [...settings.proxy.passthrough];
    if (settings.proxy.maxLag !== null) expected["max-lag"] = settings.proxy.maxLag;
    expect(doc.proxy).toEqual(expected);
  }

  if (settings.exec === null) expect(doc).not.toHaveProperty("exec");
  else expect(doc.exec).toBe(settings.exec);

  if (settings.leaderElection === "static") {
    expect(doc.lease).toEqual({
      type: "static",
      hostname: settings.primaryHostname,
      "advertise-url": settings.primaryUrl,
      candidate: settings.nodeId === settings.primaryHostname,
    });
  } else if (settings.leaderElection === "consul") {
    const consul = settings.consul!;
    expect(doc.lease).toEqual({
      type: "consul",
      ...(consul.leaseHostname !== null ? { hostname: consul.leaseHostname } : {}),
      "advertise-url": settings.advertiseUrl,
      candidate: consul.candidate,
      promote: consul.promote,
      consul: { url: consul.url, key: consul.key, ttl: consul.ttl, "lock-delay": consul.lockDelay },
    });
  } else {
    expect(doc.lease).toEqual({
      type: "consul",
      hostname: settings.nodeId,
      "advertise-url": settings.advertiseUrl,
      candidate: true,
      consul: {
        url: `http://127.0.0.1:${settings.raft!.leasePort}`,
        key: "litefs/primary",
        // Raft mode's short lease since fast failover (docs/fast-failover.md).
        ttl: "5s",
        "lock-delay": "500ms",
      },
    });
  }
}

describe("renderLitefsConfig properties", () => {
  it("static: YAML parses back to the settings, each in its place", () => {
    fc.assert(
      fc.property(staticInput, (input) => {
        const settings = loadSettings(input, {});
        const doc = roundTrip(settings);
        expectEverySettingInPlace(settings, doc);
        // Input values come through untouched; defaults are the agreed ones.
        expect(doc.fuse.dir).toBe(input.mountPath);
        expect(doc.lease.hostname).toBe(input.primaryHostname);
        expect(doc.lease["advertise-url"]).toBe(
          input.primaryUrl ?? `http://${input.primaryHostname}:${httpPort(settings)}`,
        );
      }),
      RUNS,
    );
  });

  it("raft: YAML parses back to the settings, each in its place", () => {
    fc.assert(
      fc.property(raftInput, (input) => {
        const settings = loadSettings(input, {});
        const doc = roundTrip(settings);
        expectEverySettingInPlace(settings, doc);
        expect(doc.lease.hostname).toBe(input.nodeId);
        expect(doc.lease["advertise-url"]).toBe(input.advertiseUrl ?? `http://${input.nodeId}:${httpPort(settings)}`);
        expect((doc.lease.consul as { url: string }).url).toBe(`http://127.0.0.1:${input.raft?.leasePort ?? 8500}`);
      }),
      RUNS,
    );
  });

  it("consul: YAML parses back to the settings, each in its place, references as written", () => {
    fc.assert(
      fc.property(consulInput, (input) => {
        const settings = loadSettings(input, {});
        const doc = roundTrip(settings);
        expectEverySettingInPlace(settings, doc);
        expect(settings.nodeId).toBe(input.nodeId ?? hostname());
        expect(doc.lease["advertise-url"]).toBe(
          input.advertiseUrl ?? `http://${settings.nodeId}:${httpPort(settings)}`,
        );
        expect((doc.lease.consul as { url: string }).url).toBe(input.consul?.url);
        expect(doc.lease.candidate).toBe(input.consul?.candidate ?? true);
      }),
      RUNS,
    );
  });

  it("no key outside LiteFS 0.5.14's accepted tree ever appears", () => {
    fc.assert(
      fc.property(anyInput, (input) => {
        expect(findUnknownLitefsKeys(roundTrip(loadSettings(input, {})))).toEqual([]);
      }),
      RUNS,
    );
  });

  it("rendering is deterministic and settings survive untouched", () => {
    fc.assert(
      fc.property(anyInput, (input) => {
        const settings = loadSettings(input, {});
        const snapshot = JSON.stringify(settings);
        expect(renderLitefsConfig(settings)).toBe(renderLitefsConfig(settings));
        expect(JSON.stringify(settings)).toBe(snapshot);
      }),
      { numRuns: 100 },
    );
  });
});

/** The same settings written as LITEFS_* variables (what a compose file would hold). */
function asEnv(settings: LiteFSSettings): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const row of SETTINGS_REFERENCE) {
    const value = row.setting
      .split(".")
      .reduce<unknown>((node, key) => (node === null ? null : (node as Record<string, unknown>)[key]), settings);
    if (value === null || value === undefined) continue;
    if (Array.isArray(value)) {
      if (value.length > 0) env[row.env] = value.join(",");
    } else env[row.env] = typeof value === "string" ? value : JSON.stringify(value);
  }
  return env;
}

describe("env and object agree", () => {
  it("settings loaded from LITEFS_* variables equal those loaded from the object", () => {
    fc.assert(
      fc.property(anyInput, (input) => {
        // A consul nodeId left to default comes back from the env as one that was set (the
        // hostname), which then also names lease.hostname: compare only nodes that were named.
        fc.pre(input.leaderElection !== "consul" || input.nodeId !== undefined);
        const fromObject = loadSettings(input, {});
        const env = asEnv(fromObject);
        // Variables are trimmed (blank = unset), so a value with outer spaces cannot be written
        // as one; skip those cases rather than bend the comparison.
        fc.pre(Object.values(env).every((v) => v === v?.trim()));
        expect(loadSettings(undefined, env)).toEqual(fromObject);
      }),
      { numRuns: 200 },
    );
  });
});
