// A stand-in for `litefs mount -config FILE` in `litefs-node run` tests. It records (one JSON line
// per event, to $FAKE_LITEFS_RECORD) its argv, the config it was given, whether the lease service
// already answered without a 500 (joined) at start, the lease it takes like LiteFS does (session +
// acquire), every signal; on SIGTERM/SIGINT it releases and destroys its session, then exits 0
// (or $FAKE_LITEFS_EXIT_CODE). Bounded lifetime: 60 s.
// With FAKE_LITEFS_HTTP=1 it also serves LiteFS's HTTP API on http.addr: GET /info, GET /metrics,
// and the handoff as LiteFS does it through the lease: POST /promote on a replica asks the primary
// (found through the lease key's advertise-url) for its session (POST /handoff), then renews and
// acquires the key with that session (R5, R4); the old primary just stops being primary.
import { appendFileSync, readFileSync } from "node:fs";
import { createServer } from "node:http";
import { parse } from "yaml";

const record = (event: Record<string, unknown>): void => {
  appendFileSync(process.env["FAKE_LITEFS_RECORD"]!, JSON.stringify({ t: Date.now(), ...event }) + "\n");
};
setTimeout(() => process.exit(4), 60_000).unref();

const args = process.argv.slice(2);
const configPath = args[0] === "mount" && args[1] === "-config" ? args[2] : undefined;
const configText = configPath ? readFileSync(configPath, "utf8") : "";
record({ event: "start", args, configText, pid: process.pid });
const config = parse(configText) as {
  http?: { addr: string };
  lease: {
    type: string;
    hostname: string;
    "advertise-url": string;
    consul?: { url: string; key: string; ttl: string };
  };
};
// Like LiteFS: the URL's password is the token, sent as X-Consul-Token (fetch refuses URLs with credentials).
const consulUrl = new URL(config.lease.consul?.url ?? "http://127.0.0.1:1");
const token = decodeURIComponent(consulUrl.password);
consulUrl.username = "";
consulUrl.password = "";
const base = consulUrl.origin;
const key = config.lease.consul?.key ?? "litefs/primary";
let session: string | null = null;

async function call(method: string, path: string, body?: string): Promise<{ status: number; text: string }> {
  const res = await fetch(base + path, {
    method,
    body: body ?? null,
    headers: token ? { "X-Consul-Token": token } : {},
    signal: AbortSignal.timeout(3000),
  });
  return { status: res.status, text: await res.text() };
}

async function main(): Promise<void> {
  if (config.lease.type !== "consul") return;
  const probe = await call("GET", `/v1/kv/${key}/clusterid`);
  record({ event: "lease-service", status: probe.status });
  for (let i = 0; i < 20 && session === null; i++) {
    try {
      const created = await call(
        "PUT",
        "/v1/session/create",
        JSON.stringify({
          Behavior: "delete",
          LockDelay: "1000ms",
          Name: "litefs",
          NodeChecks: [],
          TTL: config.lease.consul!.ttl,
        }),
      );
      if (created.status === 200) {
        const sid = (JSON.parse(created.text) as { ID: string }).ID;
        const acq = await call(
          "PUT",
          `/v1/kv/${key}?acquire=${sid}`,
          JSON.stringify({ hostname: config.lease.hostname, "advertise-url": config.lease["advertise-url"] }),
        );
        if (acq.text.includes("true")) {
          session = sid;
          record({ event: "primary", session: sid });
          break;
        }
        await call("PUT", `/v1/session/destroy/${sid}`);
        record({ event: "replica" });
        break;
      }
    } catch (e) {
      record({ event: "error", message: (e as Error).message });
    }
    await new Promise((r) => setTimeout(r, 250));
  }
}

for (const s of ["SIGUSR1", "SIGUSR2", "SIGHUP"] as const) process.on(s, () => record({ event: "signal", signal: s }));
for (const s of ["SIGTERM", "SIGINT"] as const) {
  process.on(s, () => {
    record({ event: "signal", signal: s });
    void (async () => {
      if (session) {
        const rel = await call("PUT", `/v1/kv/${key}?release=${session}`, "").catch(() => ({ status: 0, text: "" }));
        const des = await call("PUT", `/v1/session/destroy/${session}`).catch(() => ({ status: 0, text: "" }));
        record({ event: "released", release: rel.text, destroy: des.text });
      }
      record({ event: "exit" });
      process.exit(Number(process.env["FAKE_LITEFS_EXIT_CODE"] ?? 0));
    })();
  });
}
main().catch((e: unknown) => record({ event: "error", message: (e as Error).message }));

async function primaryInfo(): Promise<{ hostname: string; "advertise-url": string } | null> {
  const res = await call("GET", `/v1/kv/${key}`);
  if (res.status !== 200) return null;
  const [entry] = JSON.parse(res.text) as { Value: string | null }[];
  return entry?.Value
    ? (JSON.parse(Buffer.from(entry.Value, "base64").toString("utf8")) as { hostname: string; "advertise-url": string })
    : null;
}

if (process.env["FAKE_LITEFS_HTTP"] === "1" && config.http) {
  const [host, port] = [
    config.http.addr.slice(0, config.http.addr.lastIndexOf(":")) || "127.0.0.1",
    Number(config.http.addr.slice(config.http.addr.lastIndexOf(":") + 1)),
  ];
  createServer((req, res) => {
    void (async () => {
      const path = new URL(req.url ?? "/", "http://x").pathname;
      if (req.method === "GET" && path === "/info") {
        const primary = session ? config.lease.hostname : ((await primaryInfo())?.hostname ?? "");
        res.end(
          JSON.stringify(
            {
              clusterID: "LFSCFAKE",
              isPrimary: session !== null,
              candidate: true,
              path: "/data",
              primary: { hostname: primary },
            },
            null,
            2,
          ),
        );
      } else if (req.method === "GET" && path === "/metrics") {
        res.end(`# TYPE litefs_is_primary gauge\nlitefs_is_primary ${session ? 1 : 0}\n`);
      } else if (req.method === "POST" && path === "/handoff") {
        if (!session) {
          res.statusCode = 500;
          return void res.end("cannot handoff: node is not currently primary\n");
        }
        const handed = session;
        session = null;
        record({ event: "handed-off", session: handed });
        res.end(handed);
      } else if (req.method === "POST" && path === "/promote") {
        if (session) return void res.end();
        const info = await primaryInfo();
        if (!info) {
          res.statusCode = 500;
          return void res.end("no primary is currently available for handoff, cannot promote\n");
        }
        const handoff = await fetch(new URL("/handoff", info["advertise-url"]), {
          method: "POST",
          signal: AbortSignal.timeout(3000),
        });
        const sid = await handoff.text();
        if (handoff.status !== 200) {
          res.statusCode = 500;
          return void res.end(`handoff failed: ${sid}`);
        }
        const renew = await call("PUT", `/v1/session/renew/${sid}`);
        const acq = await call(
          "PUT",
          `/v1/kv/${key}?acquire=${sid}`,
          JSON.stringify({ hostname: config.lease.hostname, "advertise-url": config.lease["advertise-url"] }),
        );
        if (acq.text.includes("true")) session = sid;
        record({ event: "promoted", renew: renew.status, acquire: acq.text });
        res.end();
      } else {
        res.statusCode = 404;
        res.end();
      }
    })().catch((e: unknown) => {
      res.statusCode = 500;
      res.end(String(e));
    });
  }).listen(port, host);
}
setInterval(() => {}, 1000);
