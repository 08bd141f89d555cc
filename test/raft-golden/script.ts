// The golden script language (etcd's datadriven style): blocks of
//   <command line>
//   ----
//   <expected output, possibly empty>
// separated by blank lines; `#` lines are comments. runScript() executes the commands against a
// GoldenCluster and renders the same text with the actual outputs, so a transcript can be compared
// (or rewritten with UPDATE_GOLDEN=1).
import type { Message } from "../../src/raft/types.js";
import type { SafetyKnobs } from "../../src/raft/knobs.js";
import { GoldenCluster } from "./cluster.js";
import { formatEntry, formatMessage } from "./format.js";

interface Block {
  comments: string[];
  command: string;
  expected: string;
}

function parseScript(source: string): Block[] {
  const blocks: Block[] = [];
  const lines = source.replace(/\r\n/g, "\n").split("\n");
  let i = 0;
  while (i < lines.length) {
    const comments: string[] = [];
    while (i < lines.length && (lines[i]!.trim() === "" || lines[i]!.startsWith("#"))) {
      if (lines[i]!.startsWith("#")) comments.push(lines[i]!);
      i++;
    }
    if (i >= lines.length) break;
    const command = lines[i++]!.trim();
    if (lines[i] !== "----") throw new Error(`line ${i + 1}: expected "----" after command "${command}"`);
    i++;
    const out: string[] = [];
    while (i < lines.length && lines[i]!.trim() !== "") out.push(lines[i++]!);
    blocks.push({ comments, command, expected: out.join("\n") });
  }
  return blocks;
}

export interface ScriptResult {
  /** The script re-rendered with actual outputs. */
  actual: string;
  mismatches: { command: string; expected: string; actual: string }[];
}

export function runScript(source: string): ScriptResult {
  const blocks = parseScript(source);
  let cluster: GoldenCluster | null = null;
  const rendered: string[] = [];
  const mismatches: ScriptResult["mismatches"] = [];
  for (const b of blocks) {
    const [verb = "", ...args] = b.command.split(/\s+/);
    let output: string;
    if (verb === "add-nodes") {
      if (cluster) throw new Error("add-nodes may appear only once per script");
      cluster = createCluster(args);
      output = cluster.capture(() => undefined) || `nodes ${[...cluster.nodes.keys()].join(" ")}`;
    } else {
      if (!cluster) throw new Error(`"${b.command}" before add-nodes`);
      const c: GoldenCluster = cluster;
      output = c.capture(() => runCommand(c, verb, args));
    }
    if (output !== b.expected) mismatches.push({ command: b.command, expected: b.expected, actual: output });
    rendered.push([...b.comments, b.command, "----", ...(output ? [output] : [])].join("\n"));
  }
  return { actual: rendered.join("\n\n") + "\n", mismatches };
}

function createCluster(args: string[]): GoldenCluster {
  const [countArg, ...rest] = args;
  const count = Number(countArg);
  if (!Number.isInteger(count) || count < 1) throw new Error(`add-nodes: bad node count "${countArg}"`);
  const kv = keyValues(rest);
  const knobs: Partial<Record<keyof SafetyKnobs, boolean>> = {};
  for (const [k, v] of kv) {
    if (k.startsWith("knob:")) knobs[k.slice(5) as keyof SafetyKnobs] = v === "true";
  }
  const ids = Array.from({ length: count }, (_, i) => String(i + 1));
  return new GoldenCluster(ids, {
    preVote: (kv.get("prevote") ?? "true") === "true",
    checkQuorum: (kv.get("checkquorum") ?? "true") === "true",
    electionTick: Number(kv.get("election") ?? 10),
    heartbeatTick: Number(kv.get("heartbeat") ?? 1),
    maxEntriesPerMessage: Number(kv.get("max-entries") ?? 64),
    knobs,
  });
}

function keyValues(args: readonly string[]): Map<string, string> {
  const kv = new Map<string, string>();
  for (const a of args) {
    const eq = a.indexOf("=");
    if (eq < 0) throw new Error(`expected key=value, got "${a}"`);
    kv.set(a.slice(0, eq), a.slice(eq + 1));
  }
  return kv;
}

function messageFilter(args: readonly string[]): (m: Message) => boolean {
  const kv = keyValues(args);
  return (m) =>
    (!kv.has("from") || m.from === kv.get("from")) &&
    (!kv.has("to") || m.to === kv.get("to")) &&
    (!kv.has("type") || m.type === kv.get("type"));
}

function runCommand(c: GoldenCluster, verb: string, args: string[]): void {
  const arg = (i: number, name: string): string => {
    const v = args[i];
    if (v === undefined) throw new Error(`${verb}: missing <${name}>`);
    return v;
  };
  switch (verb) {
    case "campaign":
      c.live(arg(0, "id")).campaign();
      return;
    case "tick":
      c.tick(arg(0, "id"), Number(args[1] ?? 1));
      return;
    case "tick-all": {
      const n = Number(args[0] ?? 1);
      for (let i = 0; i < n; i++) for (const [id, node] of c.nodes) if (node.core) c.tick(id, 1);
      return;
    }
    case "run": {
      // N rounds of: every live node ticks once, then the network delivers until quiet.
      const n = Number(args[0] ?? 1);
      for (let i = 0; i < n; i++) {
        for (const [id, node] of c.nodes) if (node.core) c.tick(id, 1);
        c.stabilize();
      }
      return;
    }
    case "deliver":
      c.deliver(messageFilter(args));
      return;
    case "stabilize":
      c.stabilize();
      return;
    case "drop":
      c.drop(messageFilter(args));
      return;
    case "partition": {
      // partition 1 2 | 3 : links between groups are cut both ways
      const groups = args
        .join(" ")
        .split("|")
        .map((g) => g.trim().split(/\s+/).filter(Boolean));
      for (const g of groups) for (const h of groups) if (g !== h) for (const a of g) for (const b of h) c.cut(a, b);
      return;
    }
    case "isolate": {
      const id = arg(0, "id");
      for (const other of c.nodes.keys()) {
        if (other === id) continue;
        c.cut(id, other);
        c.cut(other, id);
      }
      return;
    }
    case "cut":
      c.cut(arg(0, "from"), arg(1, "to"));
      return;
    case "heal":
      c.heal();
      return;
    case "crash":
      c.crash(arg(0, "id"));
      return;
    case "restart":
      c.restart(arg(0, "id"));
      return;
    case "propose":
      c.propose(arg(0, "id"), arg(1, "data"));
      return;
    case "read-index":
      c.readIndex(arg(0, "id"), arg(1, "ctx"));
      return;
    case "compact":
      c.compact(arg(0, "id"), Number(arg(1, "index")));
      return;
    case "status":
      for (const id of args.length ? args : [...c.nodes.keys()]) {
        const node = c.node(id);
        if (!node.core) {
          c.print(`${id}: down`);
          continue;
        }
        const s = node.core.status();
        c.print(
          `${id}: ${s.role} term=${s.term} vote=${s.vote ?? "none"} leader=${s.leader ?? "none"} commit=${s.commit} applied=${s.applied} last=${s.lastIndex} snap=${s.snapshotIndex}`,
        );
      }
      return;
    case "log":
      for (const id of args.length ? args : [...c.nodes.keys()]) {
        const core = c.node(id).core;
        if (!core) {
          c.print(`${id}: down`);
          continue;
        }
        const snap = core.status().snapshotIndex;
        const head = snap > 0 ? `snapshot ${snap}/${core.termAt(snap) ?? "?"} + ` : "";
        c.print(`${id}: ${head}[${core.logEntries().map(formatEntry).join(", ")}]`);
      }
      return;
    case "sm":
      for (const id of args.length ? args : [...c.nodes.keys()]) {
        const node = c.node(id);
        c.print(`${id}: applied=${node.appliedIndex} [${node.applied.join(", ")}]`);
      }
      return;
    case "pending":
      for (const m of c.pending()) c.print(formatMessage(m));
      return;
    default:
      throw new Error(`unknown golden command "${verb}"`);
  }
}
