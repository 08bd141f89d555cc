import { afterEach, describe, expect, it } from "vitest";
import { LiteFSError } from "../../src/errors.js";
import { fetchInfo, parseInfo } from "../../src/litefs/info-client.js";
import { startEventsServer, type EventsServer } from "../support/events-server.js";
import { readLitefsFixture } from "../support/litefs-mount.js";

let server: EventsServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

describe("GET /info", () => {
  it("parses the recorded primary and replica answers", () => {
    expect(parseInfo(JSON.parse(readLitefsFixture("info-primary.json")))).toEqual({
      clusterId: "LFSCF5A6C83438E082A6",
      isPrimary: true,
      candidate: true,
      path: "/srv/node-a/data",
      primaryHostname: "node-a",
    });
    expect(parseInfo(JSON.parse(readLitefsFixture("info-replica.json")))).toMatchObject({
      isPrimary: false,
      candidate: false,
      primaryHostname: "node-a",
    });
  });

  it("fetches from a server, including a replica that lost its primary", async () => {
    server = await startEventsServer({ fixture: "replica-primary-lost" });
    const info = await fetchInfo(server.url);
    expect(info).toMatchObject({ isPrimary: false, primaryHostname: null });
    server.useFixture("primary");
    expect(await fetchInfo(server.url)).toMatchObject({ isPrimary: true, primaryHostname: "node-a" });
    expect(server.infoRequests).toBe(2);
  });

  it("times out with LITEFS_TIMEOUT", async () => {
    server = await startEventsServer({ fixture: "primary" });
    server.setInfoDelay(2000);
    const error = await fetchInfo(server.url, { timeoutMs: 50 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LiteFSError);
    expect((error as LiteFSError).code).toBe("LITEFS_TIMEOUT");
    expect((error as LiteFSError).message).toMatch(/did not answer within 50 ms/);
  });

  it("honours a caller's AbortSignal", async () => {
    server = await startEventsServer({ fixture: "primary" });
    server.setInfoDelay(2000);
    const controller = new AbortController();
    const pending = fetchInfo(server.url, { signal: controller.signal }).catch((e: unknown) => e);
    setTimeout(() => controller.abort(), 10);
    const error = (await pending) as LiteFSError;
    expect(error.code).toBe("LITEFS_API");
  });

  it("reports HTTP errors and bad bodies clearly", async () => {
    server = await startEventsServer({ fixture: "primary" });
    server.setInfo("oops", 500);
    await expect(fetchInfo(server.url)).rejects.toThrow(/answered HTTP 500: oops/);
    server.setInfo("{not json");
    await expect(fetchInfo(server.url)).rejects.toThrow(/invalid LiteFS \/info response .*not JSON/);
    server.setInfo({ isPrimary: "yes" });
    await expect(fetchInfo(server.url)).rejects.toThrow(/isPrimary is not a boolean/);
  });

  it("reports an unreachable API", async () => {
    await expect(fetchInfo("http://127.0.0.1:1")).rejects.toThrow(
      /cannot reach LiteFS at http:\/\/127\.0\.0\.1:1\/info/,
    );
  });
});
