// The lease API against the attacks of issue 11 (items 1, 2 and 6), on 3 real lease-server
// processes over loopback: without the node's token nothing is served; with it, only what LiteFS
// sends (the lease key cannot be deleted, rewritten without the lock, or held by a session that
// never expires); values are capped at one limit on every node; the token is made once per node,
// kept 0600, reused after a restart and never written to the logs.
import { statSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MAX_KV_VALUE_BYTES } from "../../src/lease/limits.js";
import { LeaseProcessCluster } from "../support/lease/process-cluster.js";

const K = "litefs/primary";
const CLUSTER_ID_KEY = `${K}/clusterid`;
const LITEFS_SESSION = { Behavior: "delete", LockDelay: "1000ms", Name: "litefs", NodeChecks: [], TTL: "10s" };
const info = (host: string) => JSON.stringify({ hostname: host, "advertise-url": `http://${host}:20202` });

let c: LeaseProcessCluster;
beforeAll(async () => {
  // Debug logging on: the token must not appear even there.
  c = new LeaseProcessCluster(3, { env: { LITEFS_LOG_LEVEL: "debug" } });
  await c.init();
  await c.startAll();
}, 60_000);
afterAll(async () => {
  await c?.close();
});

/** Retries while the cluster has no leader yet (500), like LiteFS's 1 s acquire loop. */
async function untilServed(call: () => Promise<Response>): Promise<Response> {
  const end = Date.now() + 15_000;
  for (;;) {
    const res = await call();
    if (res.status !== 500 || Date.now() > end) return res;
    await res.text();
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function status(res: Promise<Response>): Promise<[number, string]> {
  const r = await res;
  return [r.status, await r.text()];
}

describe("lease API security (real lease-server processes)", () => {
  it("answers 403 to every request without this node's token, whatever the endpoint", async () => {
    for (let i = 0; i < 3; i++) {
      const base = `http://127.0.0.1:${c.httpPort(i)}`;
      const other = c.token((i + 1) % 3);
      for (const [method, path, headers] of [
        ["GET", `/v1/kv/${K}`, {}],
        ["DELETE", `/v1/kv/${K}`, {}],
        ["PUT", `/v1/kv/${K}`, {}],
        ["PUT", "/v1/session/create", {}],
        ["PUT", "/v1/session/destroy/00000000-0000-0000-0000-000000000000", {}],
        ["GET", `/v1/kv/${K}`, { "X-Consul-Token": other }],
        ["GET", `/v1/kv/${K}`, { "X-Consul-Token": "" }],
      ] as const) {
        const res = await fetch(base + path, { method, headers, body: method === "PUT" ? "{}" : null });
        expect(res.status, `${c.names[i]} ${method} ${path}`).toBe(403);
        expect(await res.text()).toBe("Permission denied");
      }
    }
  });

  it("with the token: the lease key cannot be deleted or rewritten without the lock, other keys are not served", async () => {
    const a = c.consul(0);
    const sid = await (async () => {
      const res = await untilServed(() => a.raw("PUT", "/v1/session/create", JSON.stringify(LITEFS_SESSION)));
      expect(res.status).toBe(200);
      return ((await res.json()) as { ID: string }).ID;
    })();
    expect(await a.acquire(K, sid, info("node-a"))).toBe(true);
    for (let i = 0; i < 3; i++) {
      const n = c.consul(i);
      const [del, delText] = await status(n.raw("DELETE", `/v1/kv/${K}`));
      expect(del).toBe(405);
      expect(delText).toMatch(/never deletes a key/);
      const [put, putText] = await status(n.raw("PUT", `/v1/kv/${K}`, info("attacker")));
      expect(put).toBe(403);
      expect(putText).toMatch(/only with \?acquire= or \?release=/);
      expect((await n.raw("PUT", `/v1/kv/${CLUSTER_ID_KEY}?acquire=${sid}`, "x")).status).toBe(403);
      expect((await n.raw("PUT", "/v1/kv/app/secret", "x")).status).toBe(403);
      expect((await n.raw("GET", "/v1/kv/app/secret")).status).toBe(403);
      expect((await n.raw("GET", `/v1/kv/${K}?recurse=true`)).status).toBe(400);
    }
    // The holder and the value are what LiteFS wrote, on every node.
    for (let i = 0; i < 3; i++) {
      const kv = await c.consul(i).get(K);
      expect(kv?.Session).toBe(sid);
      expect(Buffer.from(kv!.Value!, "base64").toString()).toBe(info("node-a"));
    }
  });

  it("refuses session shapes LiteFS never sends with 400, on every node, before anything is proposed", async () => {
    const shapes: [Record<string, unknown>, RegExp][] = [
      [{ ...LITEFS_SESSION, TTL: undefined }, /TTL is required/],
      [{ ...LITEFS_SESSION, TTL: "0s" }, /Invalid Session TTL/],
      [{ ...LITEFS_SESSION, TTL: "1s" }, /Invalid Session TTL '1s', must be between \[5s=24h0m0s\]/],
      [{ ...LITEFS_SESSION, TTL: "25h" }, /Invalid Session TTL/],
      [{ ...LITEFS_SESSION, TTL: "5000.5ms" }, /whole number of milliseconds/],
      [{ ...LITEFS_SESSION, LockDelay: 1e300 }, /LockDelay/],
      [{ ...LITEFS_SESSION, Behavior: "release" }, /Behavior/],
      [{ ...LITEFS_SESSION, Behavior: undefined }, /Behavior/],
      [{ ...LITEFS_SESSION, Name: "n".repeat(500) }, /Name/],
    ];
    for (let i = 0; i < 3; i++) {
      for (const [shape, why] of shapes) {
        const [code, text] = await status(c.consul(i).raw("PUT", "/v1/session/create", JSON.stringify(shape)));
        expect(code, `${c.names[i]} ${JSON.stringify(shape).slice(0, 80)}`).toBe(400);
        expect(text).toMatch(why);
      }
      expect((await c.consul(i).raw("PUT", "/v1/session/renew/not-a-session")).status).toBe(400);
    }
  });

  it("one value limit on every node (leader or follower): 4 KiB is stored, more is refused with 413", async () => {
    const full = "v".repeat(MAX_KV_VALUE_BYTES);
    for (let i = 0; i < 3; i++) {
      const n = c.consul(i);
      const ok = await untilServed(() => n.raw("PUT", `/v1/kv/${CLUSTER_ID_KEY}`, full));
      expect(ok.status, c.names[i]).toBe(200);
      expect(await ok.text()).toBe("true");
      const [code, text] = await status(n.raw("PUT", `/v1/kv/${CLUSTER_ID_KEY}`, full + "v"));
      expect(code).toBe(413);
      expect(text).toMatch(new RegExp(`exceeds ${MAX_KV_VALUE_BYTES} bytes`));
    }
    // The flood that used to take the snapshot over the codec limit: every PUT is refused.
    const big = "x".repeat(512 * 1024);
    const codes = await Promise.all(
      Array.from({ length: 20 }, (_, k) =>
        c
          .consul(k % 3)
          .raw("PUT", `/v1/kv/${CLUSTER_ID_KEY}`, big)
          .then((r) => r.status),
      ),
    );
    expect(new Set(codes)).toEqual(new Set([413]));
    const kv = await c.consul(1).get(CLUSTER_ID_KEY);
    expect(Buffer.from(kv!.Value!, "base64").toString()).toBe(full);
  });

  it("makes the token once per node (256 random bits, file 0600 beside the Raft data), reuses it after a restart, never logs it", async () => {
    const tokens = c.names.map((_, i) => c.token(i));
    expect(new Set(tokens).size).toBe(3);
    for (const [i, token] of tokens.entries()) {
      expect(Buffer.from(token, "base64url").length).toBe(32);
      const path = join(c.root, c.names[i]!, "data", "raft", "lease-token");
      expect(statSync(path).mode & 0o777).toBe(0o600);
    }
    expect(await c.stop(0)).toBe(0);
    await c.start(0);
    expect(c.token(0)).toBe(tokens[0]);
    expect(c.stderr(0)).toMatch(/lease service started/); // debug logs are on and were captured
    for (let i = 0; i < 3; i++) for (const token of tokens) expect(c.stderr(i)).not.toContain(token);
  }, 30_000);
});
