// Wire conformance: the recorded request/response exchanges of LiteFS's Consul client
// (test/fixtures/consul/), replayed byte for byte against the lease service's HTTP front end;
// plus the token check, the 1 s answer deadline and the client-side parse of every answer.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { httpConsul } from "../support/lease/consul-client.js";
import { startInProcessLease, type InProcessLease } from "../support/lease/in-process.js";

interface Step {
  name: string;
  request: { method: string; path: string; body?: string; headers?: Record<string, string> };
  response: { status: number; headers?: Record<string, string>; body?: string; bodyContains?: string };
}
const FIXTURE = JSON.parse(
  readFileSync(join(import.meta.dirname, "..", "fixtures", "consul", "litefs-lease-exchanges.json"), "utf8"),
) as { steps: Step[] };

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
const UUID = "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}";

/** Fixture text with {{capture:x}}, {{x}} and {{int}} -> a regex and the names it captures. */
function pattern(expected: string, vars: Map<string, string>): { re: RegExp; names: string[] } {
  const names: string[] = [];
  let src = "";
  let rest = expected;
  const token = /\{\{(capture:)?([a-z0-9]+)\}\}/;
  for (let m = token.exec(rest); m; m = token.exec(rest)) {
    src += escape(rest.slice(0, m.index));
    if (m[1]) {
      names.push(m[2]!);
      src += `(${UUID})`;
    } else if (m[2] === "int") src += "\\d+";
    else {
      const v = vars.get(m[2]!);
      if (v === undefined) throw new Error(`fixture uses {{${m[2]}}} before capturing it`);
      src += escape(v);
    }
    rest = rest.slice(m.index + m[0].length);
  }
  return { re: new RegExp(`^${src}${escape(rest)}$`), names };
}

const substitute = (s: string, vars: Map<string, string>) =>
  s.replace(/\{\{([a-z0-9]+)\}\}/g, (_, n: string) => vars.get(n) ?? `{{${n}}}`);

let lease: InProcessLease | undefined;
afterEach(async () => {
  await lease?.close();
  lease = undefined;
});

describe("Consul wire conformance (fixtures of api v1.11.0 exchanges)", () => {
  it(`replays all ${FIXTURE.steps.length} exchanges in order`, async () => {
    lease = await startInProcessLease();
    const vars = new Map<string, string>();
    for (const step of FIXTURE.steps) {
      // With a token in lease.consul.url, the api client sends it on every request.
      const res = await fetch(lease.url + substitute(step.request.path, vars), {
        method: step.request.method,
        body: step.request.body === undefined ? null : step.request.body,
        headers: { "X-Consul-Token": lease.token, ...(step.request.headers ?? {}) },
        signal: AbortSignal.timeout(3000),
      });
      const text = await res.text();
      expect(res.status, step.name).toBe(step.response.status);
      for (const [h, v] of Object.entries(step.response.headers ?? {})) {
        expect(res.headers.get(h) ?? "(missing)", `${step.name}: header ${h}`).toMatch(pattern(v, vars).re);
      }
      if (step.response.bodyContains !== undefined) expect(text, step.name).toContain(step.response.bodyContains);
      if (step.response.body !== undefined) {
        const { re, names } = pattern(step.response.body, vars);
        const m = re.exec(text);
        expect(m, `${step.name}: body ${text}`).not.toBeNull();
        names.forEach((n, i) => vars.set(n, m![i + 1]!));
      }
    }
    expect(vars.size).toBe(3);
  });

  it("every answer parses the way the api client parses it (LockDelay integer ns, Value base64)", async () => {
    lease = await startInProcessLease();
    const c = httpConsul({ baseUrl: lease.url, token: lease.token });
    const sid = await c.createSession("10s", "1000ms");
    expect(await c.acquire("litefs/primary", sid, '{"hostname":"node-a","advertise-url":"http://node-a:20202"}')).toBe(
      true,
    );
    const kv = await c.get("litefs/primary");
    expect(JSON.parse(Buffer.from(kv!.Value!, "base64").toString())).toEqual({
      hostname: "node-a",
      "advertise-url": "http://node-a:20202",
    });
    const entry = await c.renew(sid);
    expect(Number.isInteger(entry!.LockDelay)).toBe(true);
    expect(entry!.LockDelay).toBe(1e9);
    expect(await c.release("litefs/primary", sid)).toBe(true);
    await c.destroy(sid);
    expect(await c.renew(sid)).toBeNull();
  });
});

describe("X-Consul-Token", () => {
  it("refuses a missing or wrong token with 403, accepts the right one (header, bearer, query)", async () => {
    lease = await startInProcessLease({ token: "s3cret-token" });
    const key = `${lease.url}/v1/kv/litefs/primary`;
    expect((await fetch(key)).status).toBe(403);
    expect((await fetch(key, { headers: { "X-Consul-Token": "s3cret-tokeN" } })).status).toBe(403);
    expect((await fetch(key, { headers: { "X-Consul-Token": "s3cret-token" } })).status).toBe(404);
    expect((await fetch(key, { headers: { Authorization: "Bearer s3cret-token" } })).status).toBe(404);
    expect((await fetch(`${key}?token=s3cret-token`)).status).toBe(404);
    const c = httpConsul({ baseUrl: lease.url, token: "s3cret-token" });
    expect(typeof (await c.createSession("10s", "1000ms"))).toBe("string");
  });
});

describe("answer deadline", () => {
  it("answers 500 within the deadline when Raft cannot commit or confirm (no quorum)", async () => {
    lease = await startInProcessLease({ deadlineMs: 300 });
    const c = httpConsul({ baseUrl: lease.url, token: lease.token });
    const sid = await c.createSession("10s", "1000ms");
    lease.raft.stalled = true;
    for (const [method, path] of [
      ["PUT", `/v1/session/renew/${sid}`],
      ["PUT", "/v1/session/create"],
      ["GET", "/v1/kv/litefs/primary"],
      ["PUT", `/v1/kv/litefs/primary?acquire=${sid}`],
    ] as const) {
      const t0 = performance.now();
      const body =
        path === "/v1/session/create"
          ? JSON.stringify({ Behavior: "delete", LockDelay: "1000ms", Name: "litefs", NodeChecks: [], TTL: "10s" })
          : "";
      const res = await c.raw(method, path, method === "PUT" ? body : undefined);
      const ms = performance.now() - t0;
      expect(res.status, path).toBe(500);
      expect(await res.text()).toMatch(/no answer within 300 ms/);
      expect(ms).toBeGreaterThanOrEqual(250);
      expect(ms).toBeLessThan(1000);
    }
  });

  it("the default deadline is 1 s", async () => {
    lease = await startInProcessLease();
    lease.raft.stalled = true;
    const t0 = performance.now();
    const res = await fetch(`${lease.url}/v1/kv/litefs/primary`, {
      headers: { "X-Consul-Token": lease.token },
      signal: AbortSignal.timeout(3000),
    });
    const ms = performance.now() - t0;
    expect(res.status).toBe(500);
    expect(ms).toBeGreaterThanOrEqual(950);
    expect(ms).toBeLessThan(1500);
  });

  it("a follower that cannot forward answers 500 at once, naming the leader", async () => {
    lease = await startInProcessLease();
    lease.raft.role = "follower";
    lease.raft.leader = "127.0.0.1:9";
    const session = JSON.stringify({
      Behavior: "delete",
      LockDelay: "1000ms",
      Name: "litefs",
      NodeChecks: [],
      TTL: "10s",
    });
    const headers = { "X-Consul-Token": lease.token };
    const res = await fetch(`${lease.url}/v1/session/create`, { method: "PUT", body: session, headers });
    expect(res.status).toBe(500);
    expect(await res.text()).toMatch(/127\.0\.0\.1:9/);
    lease.raft.leader = null;
    const res2 = await fetch(`${lease.url}/v1/session/create`, { method: "PUT", body: session, headers });
    expect(await res2.text()).toMatch(/no Raft leader/);
  });
});
