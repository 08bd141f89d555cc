// The LiteFS contract (v0.5.14): mount files, the HTTP API's /info, the /events stream, and the
// view of "who is primary" they describe. Nothing here decides who may write: see src/election.
export {
  PRIMARY_FILE,
  LAG_FILE,
  NEVER_SYNCED_LAG_MS,
  positionFileName,
  parsePrimaryFile,
  parsePositionFile,
  parseLagFile,
  readPrimaryFile,
  readPositionFile,
  readLagFile,
  type DatabasePosition,
} from "./mount-files.js";
export { decodeLiteFSEvent, type LiteFSEvent, type PrimaryStatusEvent, type TxEvent } from "./events.js";
export { createJsonObjectSplitter, type JsonObjectSink, type JsonObjectSplitter } from "./json-stream.js";
export { backoffDelayMs, type BackoffOptions } from "../backoff.js";
export { subscribeEvents, type EventsSubscription, type EventsSubscriptionOptions } from "./events-client.js";
export { fetchInfo, parseInfo, type FetchInfoOptions, type LiteFSInfo } from "./info-client.js";
export type { StreamFetch, StreamRequestInit } from "./background-fetch.js";
export {
  PRIMARY_VIEW,
  NO_PRIMARY_VIEW,
  replicaView,
  unknownView,
  viewFromPrimaryStatus,
  sameView,
  type LiteFSView,
} from "./view.js";
export { createMountViewReader } from "./mount-view.js";
export { createDefaultLogger, type Logger } from "../logger.js";
