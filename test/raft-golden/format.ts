// Compact, stable text for messages and entries in golden transcripts.
import type { Entry, Message } from "../../src/raft/types.js";

const text = new TextDecoder();

export function formatEntry(e: Entry): string {
  return e.type === "noop" ? `${e.index}/${e.term} noop` : `${e.index}/${e.term} "${text.decode(e.data)}"`;
}

export function formatMessage(m: Message): string {
  const head = `${m.from}->${m.to} ${m.type} term=${m.term}`;
  const ctx = m.context ? ` ctx=${text.decode(m.context)}` : "";
  switch (m.type) {
    case "vote":
    case "preVote":
      return `${head} last=${m.index}/${m.logTerm}`;
    case "voteResp":
    case "preVoteResp":
      return `${head}${m.reject ? " rejected" : " granted"}`;
    case "app":
      return `${head} prev=${m.index}/${m.logTerm} commit=${m.commit} entries=[${m.entries.map(formatEntry).join(", ")}]`;
    case "appResp":
      return m.reject ? `${head} reject index=${m.index} hint=${m.rejectHint}` : `${head} index=${m.index}`;
    case "heartbeat":
      return `${head} commit=${m.commit}${ctx}`;
    case "heartbeatResp":
      return `${head}${ctx}`;
    case "snap":
      return `${head} snapshot=${m.snapshot?.meta.index ?? "?"}/${m.snapshot?.meta.term ?? "?"}`;
    case "readIndex":
      return `${head}${ctx}`;
    case "readIndexResp":
      return `${head} index=${m.index}${ctx}`;
    default:
      return head;
  }
}
