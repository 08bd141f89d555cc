import { createServer } from "node:net";
import { Readable } from "node:stream";
import { describe, expect, it } from "vitest";
import { listenOn, readBodyUpTo } from "../../src/net-io.js";

describe("listenOn", () => {
  it("resolves with the bound address, and rejects with the bind error when the port is taken", async () => {
    const first = createServer();
    const bound = await listenOn(first, 0, "127.0.0.1");
    try {
      expect(bound.address).toBe("127.0.0.1");
      expect(bound.port).toBeGreaterThan(0);
      const second = createServer();
      await expect(listenOn(second, bound.port, "127.0.0.1")).rejects.toMatchObject({ code: "EADDRINUSE" });
      expect(second.listenerCount("error")).toBe(0);
    } finally {
      await new Promise((resolve) => first.close(resolve));
    }
  });
});

describe("readBodyUpTo", () => {
  it("returns the whole body up to the limit, null past it (reading on to the end)", async () => {
    expect((await readBodyUpTo(Readable.from([Buffer.from("ab"), Buffer.from("cd")]), 4))?.toString()).toBe("abcd");
    const longer = Readable.from([Buffer.from("ab"), Buffer.from("cde")]);
    expect(await readBodyUpTo(longer, 4)).toBeNull();
    expect(longer.readableEnded).toBe(true);
  });

  it("rejects when the stream fails", async () => {
    const broken = new Readable({
      read() {
        this.destroy(new Error("reset"));
      },
    });
    await expect(readBodyUpTo(broken, 10)).rejects.toThrow("reset");
  });
});
