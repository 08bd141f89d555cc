// The package root, `import ... from "litefs-node"`: settings, node state, the write gate, the
// guarded driver, write forwarding, health and metrics. ORM entries live at litefs-node/drizzle
// and litefs-node/prisma so that neither ORM is loaded unless asked for.
export * from "./errors.js";
export {
  loadSettings,
  renderLitefsConfig,
  litefsApiUrl,
  databasePath,
  SETTINGS_REFERENCE,
  type LeaderElection,
  type LiteFSSettings,
  type LiteFSSettingsInput,
  type ProxySettings,
  type RaftSettings,
  type SettingReference,
} from "./config/index.js";
export {
  openNode,
  createNode,
  type LiteFSNode,
  type OpenNodeOptions,
  type CreateNodeOptions,
  type NodeStateSnapshot,
  type Role,
  type TxNotice,
} from "./node/node.js";
export { alwaysWritableGate, type WriteGate } from "./node/gate.js";
export {
  readPrimaryFile,
  readPositionFile,
  readLagFile,
  fetchInfo,
  subscribeEvents,
  type DatabasePosition,
  type LiteFSEvent,
  type LiteFSInfo,
  type EventsSubscription,
} from "./litefs/index.js";
export { GuardedDatabase, type GuardedDatabaseOptions } from "./driver/guarded-database.js";
export { openGuardedDatabase, openGuardedDatabaseWhenPresent } from "./driver/open.js";
export * from "./forward/index.js";
export * from "./health/index.js";
