// The LiteFS contract (v0.5.14): mount files, the HTTP API's /info, the /events stream, and the
// view of "who is primary" they describe. Nothing here decides who may write: see src/election.
export { readPrimaryFile, readPositionFile, readLagFile, type DatabasePosition } from "./mount-files.js";
export { type LiteFSEvent } from "./events.js";
export { subscribeEvents, type EventsSubscription } from "./events-client.js";
export { fetchInfo, type LiteFSInfo } from "./info-client.js";
