import { afterEach, describe, expect, it, vi } from "vitest";
import fc from "fast-check";
import { isNotPrimaryError, isSplitBrainError } from "../../src/errors.js";
import { staticElection } from "../../src/election/election-view.js";
import { NodeState, type NodeStateSnapshot } from "../../src/node/node-state.js";
import { NO_PRIMARY_VIEW, PRIMARY_VIEW, replicaView, unknownView, type LiteFSView } from "../../src/litefs/view.js";

// Any interleaving of pushed views (events), stream drops (fallback to changing files) and gate
// calls: the gate always answers what the current source says, split brain is announced exactly
// once per episode, and role-change fires exactly when (role, primary, splitBrain) changes.
const view: fc.Arbitrary<LiteFSView> = fc.oneof(
  fc.constant(PRIMARY_VIEW),
  fc.constant(NO_PRIMARY_VIEW),
  fc.constantFrom("node-a", "node-b", "node-c").map(replicaView),
  fc.constant(unknownView("no mount")),
);
const step = fc.oneof(
  view.map((v) => ({ op: "event" as const, v })),
  view.map((v) => ({ op: "files" as const, v })),
  fc.constant({ op: "drop" as const }),
  fc.constant({ op: "write" as const }),
);

function expectedKind(v: LiteFSView, nodeId: string): "writable" | "split" | "refused" {
  if (v.kind === "primary") return nodeId === "node-a" ? "writable" : "split";
  if (v.kind === "replica" && v.primary !== "node-a") return "split";
  return "refused";
}

describe("NodeState over arbitrary histories (static election, primaryHostname node-a)", () => {
  it("answers from the live source and announces changes exactly once", () => {
    fc.assert(
      fc.property(
        fc.constantFrom("node-a", "node-b"),
        view,
        fc.array(step, { maxLength: 40 }),
        (nodeId, initialFiles, steps) => {
          let files = initialFiles;
          let fileReads = 0;
          let splitAnnouncements = 0;
          const roleChanges: NodeStateSnapshot[] = [];
          const state = new NodeState(
            nodeId,
            staticElection(nodeId, "node-a"),
            () => (fileReads++, files),
            {
              roleChange: (s) => roleChanges.push(s),
              splitBrain: () => splitAnnouncements++,
              splitBrainResolved: () => undefined,
            },
            0,
          ); // no verdict cache: every answer from the files (the cache has its own property below)
          let live: LiteFSView | null = null; // the events view, null while disconnected
          let episodes = 0;
          let inSplit = false;
          let last: { role: string; primary: string | null; splitBrain: boolean } | null = null;
          let expectedRoleChanges = 0;
          const track = (v: LiteFSView): void => {
            const split = expectedKind(v, nodeId) === "split";
            if (split && !inSplit) episodes++;
            inSplit = split;
            const now = {
              role: v.kind === "primary" ? "primary" : v.kind === "unknown" ? "unknown" : "replica",
              primary: v.kind === "primary" ? nodeId : v.kind === "replica" ? v.primary : null,
              splitBrain: split,
            };
            if (!last || last.role !== now.role || last.primary !== now.primary || last.splitBrain !== now.splitBrain)
              expectedRoleChanges++;
            last = now;
          };
          for (const s of steps) {
            if (s.op === "event") {
              live = s.v;
              state.setEventsView(s.v);
              track(s.v);
            } else if (s.op === "files") {
              files = s.v;
            } else if (s.op === "drop") {
              live = null;
              state.setEventsView(null);
              track(files);
            } else {
              const readsBefore = fileReads;
              const current = live ?? files;
              let error: unknown = null;
              try {
                state.gate.assertWritable();
              } catch (e) {
                error = e;
              }
              const kind = expectedKind(current, nodeId);
              if (kind === "writable") expect(error).toBeNull();
              if (kind === "split") expect(isSplitBrainError(error)).toBe(true);
              if (kind === "refused") expect(isNotPrimaryError(error)).toBe(true);
              // Connected: the gate never touches the files.
              if (live) expect(fileReads).toBe(readsBefore);
              else track(files);
            }
          }
          expect(splitAnnouncements).toBe(episodes);
          expect(roleChanges).toHaveLength(expectedRoleChanges);
        },
      ),
      { numRuns: 500 },
    );
  });
});

// The file gate's verdict cache, over arbitrary histories with a controlled clock: an answer
// given without reading the files is "writable", and only within fileGateCacheMs of a read of the
// files that said writable, with no event, stream drop or invalidate() in between. A refusal is
// always read afresh.
describe("NodeState's file verdict cache over arbitrary histories", () => {
  afterEach(() => vi.restoreAllMocks());

  const cacheStep = fc.oneof(
    view.map((v) => ({ op: "files" as const, v })),
    fc.integer({ min: 0, max: 80 }).map((ms) => ({ op: "wait" as const, ms })),
    fc.constant({ op: "write" as const }),
    fc.constant({ op: "invalidate" as const }),
    view.map((v) => ({ op: "event" as const, v })),
    fc.constant({ op: "drop" as const }),
  );

  it("serves only young writable verdicts from the cache, and never past a change it was told about", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 60 }),
        view,
        fc.array(cacheStep, { maxLength: 50 }),
        (cacheMs, initialFiles, steps) => {
          let now = 1_000;
          vi.spyOn(performance, "now").mockImplementation(() => now);
          let files = initialFiles;
          let fileReads = 0;
          const state = new NodeState(
            "node-a",
            staticElection("node-a", "node-a"),
            () => (fileReads++, files),
            {
              roleChange: () => undefined,
              splitBrain: () => undefined,
              splitBrainResolved: () => undefined,
            },
            cacheMs,
          );
          let live = false;
          // The last check that read the files and was answered "writable", while nothing has
          // happened since that may end the cache; null otherwise.
          let writableReadAt: number | null = null;
          for (const s of steps) {
            if (s.op === "files") files = s.v;
            else if (s.op === "wait") now += s.ms;
            else if (s.op === "invalidate") {
              state.gate.invalidate?.();
              writableReadAt = null;
            } else if (s.op === "event") {
              live = true;
              state.setEventsView(s.v);
              writableReadAt = null;
            } else if (s.op === "drop") {
              live = false;
              state.setEventsView(null);
              writableReadAt = null;
            } else {
              const readsBefore = fileReads;
              let refused = false;
              try {
                state.gate.assertWritable();
              } catch {
                refused = true;
              }
              if (live) continue;
              const readFiles = fileReads > readsBefore;
              if (!readFiles) {
                expect(refused).toBe(false);
                expect(writableReadAt).not.toBeNull();
                expect(now - (writableReadAt as number)).toBeLessThan(cacheMs);
              } else {
                expect(refused).toBe(expectedKind(files, "node-a") !== "writable");
                writableReadAt = refused ? null : now;
              }
            }
          }
        },
      ),
      { numRuns: 500 },
    );
  });
});
