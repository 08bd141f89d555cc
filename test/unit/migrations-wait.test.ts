// The replica's wait: push (a LiteFS tx event triggers a check at once) or poll (bounded
// interval), a hard timeout naming the missing migrations, abortable, and the node's gate
// deciding promotion and split brain along the way.
import { afterEach, describe, expect, it } from "vitest";
import { openNode, type LiteFSNode } from "../../src/node/node.js";
import { isSplitBrainError } from "../../src/errors.js";
import type { MigrationTimeoutError } from "../../migrations-guard/index.js";
import { isMigrationTimeoutError } from "../../migrations-guard/index.js";
import { checkWaitOptions, waitForReplication, type ReplicaCheck } from "../../migrations-guard/wait.js";
import { startEventsServer } from "../support/events-server.js";
import { Cleanups, testNode } from "../support/migrations/cluster.js";
import type { MountState } from "../support/litefs-mount.js";

const cleanups = new Cleanups();
afterEach(() => cleanups.run());

const NOT_YET: ReplicaCheck = { done: false, missing: ["0001_add_pinned"], problem: null };

async function nodeOn(
  nodeId: string,
  state: MountState,
  httpAddr?: string,
): Promise<{ node: LiteFSNode; setState(s: MountState): void }> {
  const t = await testNode(cleanups, nodeId, state);
  const settings = httpAddr ? { ...t.settings, httpAddr } : t.settings;
  const node = openNode(settings, { pollIntervalMs: 0 });
  cleanups.add(() => node.close());
  await node.ready;
  return { node, setState: (s) => t.mount.setState(s) };
}

describe("checkWaitOptions", () => {
  it("names the bad option", () => {
    expect(() => checkWaitOptions({ timeoutMs: 0 })).toThrow(/wait\.timeoutMs must be a number of ms from 1/);
    expect(() => checkWaitOptions({ timeoutMs: Number.NaN })).toThrow(/wait\.timeoutMs/);
    expect(() => checkWaitOptions({ timeoutMs: 1000, pollIntervalMs: 1 })).toThrow(
      /wait\.pollIntervalMs must be from 20 to 5000 ms, got 1/,
    );
    expect(() => checkWaitOptions({ timeoutMs: 1000, pollIntervalMs: 60_000 })).toThrow(/wait\.pollIntervalMs/);
    expect(() => checkWaitOptions({ timeoutMs: 1000, signal: {} as AbortSignal })).toThrow(
      /wait\.signal must be an AbortSignal/,
    );
    expect(checkWaitOptions({ timeoutMs: 1000 })).toEqual({ timeoutMs: 1000, pollIntervalMs: 500, signal: null });
  });
});

describe("waitForReplication", () => {
  it("polls at the bounded interval until the check passes", async () => {
    const { node } = await nodeOn("node-b", { role: "replica", primary: "node-a" });
    let calls = 0;
    const started = Date.now();
    const outcome = await waitForReplication(node, checkWaitOptions({ timeoutMs: 5000, pollIntervalMs: 40 }), () =>
      ++calls < 4 ? NOT_YET : { done: true },
    );
    expect(outcome.kind).toBe("replicated");
    expect(calls).toBe(4);
    const elapsed = Date.now() - started;
    expect(elapsed).toBeGreaterThanOrEqual(3 * 40 - 5);
    expect(elapsed).toBeLessThan(2000);
    expect(outcome.waitedMs).toBeGreaterThanOrEqual(100);
  });

  it("times out at the hard limit with an error naming the missing migration", async () => {
    const { node } = await nodeOn("node-b", { role: "replica", primary: "node-a" });
    const started = Date.now();
    let error: unknown;
    try {
      await waitForReplication(node, checkWaitOptions({ timeoutMs: 300, pollIntervalMs: 50 }), () => ({
        done: false,
        missing: ["0001_add_pinned"],
        problem: "the database does not exist here yet",
      }));
    } catch (e) {
      error = e;
    }
    const elapsed = Date.now() - started;
    expect(isMigrationTimeoutError(error)).toBe(true);
    expect((error as MigrationTimeoutError).missing).toEqual(["0001_add_pinned"]);
    expect((error as Error).message).toMatch(
      /timed out after 300 ms waiting on node "node-b" for migration "0001_add_pinned"/,
    );
    expect((error as Error).message).toMatch(/the database does not exist here yet/);
    expect(elapsed).toBeGreaterThanOrEqual(290);
    expect(elapsed).toBeLessThan(1500);
  });

  it("keeps waiting while no primary is known, and says so at the timeout", async () => {
    const { node } = await nodeOn("node-b", { role: "replica-lost-primary" });
    const error = await waitForReplication(
      node,
      checkWaitOptions({ timeoutMs: 150, pollIntervalMs: 30 }),
      () => NOT_YET,
    ).catch((e: unknown) => e);
    expect(isMigrationTimeoutError(error)).toBe(true);
    expect((error as Error).message).toMatch(/no primary is known/);
  });

  it("is aborted at once by its signal, whatever the poll interval", async () => {
    const { node } = await nodeOn("node-b", { role: "replica", primary: "node-a" });
    const controller = new AbortController();
    const started = Date.now();
    setTimeout(() => controller.abort(new Error("deploy cancelled")), 50);
    const error = await waitForReplication(
      node,
      checkWaitOptions({ timeoutMs: 60_000, pollIntervalMs: 5000, signal: controller.signal }),
      () => NOT_YET,
    ).catch((e: unknown) => e);
    expect((error as Error).message).toBe("deploy cancelled");
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it("checks as soon as LiteFS pushes a tx event for the database (no waiting for the poll)", async () => {
    const server = await startEventsServer({ fixture: "replica" });
    cleanups.add(() => server.close());
    const { node } = await nodeOn("node-b", { role: "replica", primary: "node-a" }, `127.0.0.1:${server.port}`);
    await server.waitForStreams(1);
    let replicated = false;
    let calls = 0;
    const started = Date.now();
    setTimeout(() => {
      replicated = true;
      void server.sendEvent({
        type: "tx",
        db: "db",
        data: {
          txID: "0000000000000005",
          postApplyChecksum: "b2fc350afcb62d33",
          pageSize: 4096,
          commit: 3,
          timestamp: new Date().toISOString(),
        },
      });
    }, 100);
    const outcome = await waitForReplication(
      node,
      checkWaitOptions({ timeoutMs: 10_000, pollIntervalMs: 5000 }),
      () => {
        calls++;
        return replicated ? { done: true } : NOT_YET;
      },
    );
    expect(outcome.kind).toBe("replicated");
    // The poll interval is 5 s: only the pushed event can have triggered the passing check.
    expect(Date.now() - started).toBeLessThan(2000);
    expect(calls).toBeGreaterThanOrEqual(2);
  });

  it("returns 'promoted' when the node becomes primary while waiting", async () => {
    const { node, setState } = await nodeOn("node-a", { role: "replica", primary: "node-a" });
    setTimeout(() => setState({ role: "primary" }), 80);
    const outcome = await waitForReplication(
      node,
      checkWaitOptions({ timeoutMs: 5000, pollIntervalMs: 20 }),
      () => NOT_YET,
    );
    expect(outcome.kind).toBe("promoted");
  });

  it("ends with SplitBrainError when the node falls into split brain", async () => {
    const { node, setState } = await nodeOn("node-b", { role: "replica", primary: "node-a" });
    setTimeout(() => setState({ role: "primary" }), 80);
    const error = await waitForReplication(
      node,
      checkWaitOptions({ timeoutMs: 5000, pollIntervalMs: 20 }),
      () => NOT_YET,
    ).catch((e: unknown) => e);
    expect(isSplitBrainError(error)).toBe(true);
  });
});
