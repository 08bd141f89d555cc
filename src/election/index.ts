// Who may write: the WriteGate seam, the LiteFS node that feeds it, and the election views.
export { alwaysWritableGate, type WriteGate } from "./gate.js";
export {
  openNode,
  createNode,
  type LiteFSNode,
  type NodeStateSnapshot,
  type Role,
  type TxNotice,
  type OpenNodeOptions,
  type CreateNodeOptions,
} from "./node.js";
export { staticElection, consulElection, electionForSettings, type ElectionView, type Contradiction } from "./election-view.js";
export { judge, verdictError, WRITABLE, type Verdict } from "./verdict.js";
