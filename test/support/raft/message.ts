// A Raft message for tests: the fields a test is about, every other one empty, cluster "c1".
import type { Message } from "../../../src/raft/types.js";

export function raftMessage(over: Partial<Message> & Pick<Message, "type" | "from" | "to" | "term">): Message {
  return {
    clusterId: "c1",
    index: 0,
    logTerm: 0,
    entries: [],
    commit: 0,
    reject: false,
    rejectHint: 0,
    snapshot: null,
    context: null,
    ...over,
  };
}
