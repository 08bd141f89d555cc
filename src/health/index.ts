// Health and metrics of a litefs-node process.
export type { NodeStateView, NodeEventsView, RaftSnapshot, RaftMetricsSource } from "./node-view.js";
export {
  healthReport,
  healthStatusCode,
  DEFAULT_MAX_LAG_MS,
  type HealthReport,
  type HealthElection,
  type HealthOptions,
} from "./status.js";
export {
  createMetrics,
  defaultMetrics,
  recordRefusal,
  recordRefusalError,
  DEFAULT_METRICS_PREFIX,
  type LiteFSNodeMetrics,
  type RefusalReason,
  type ForwardOutcome,
  type TxidWaitOutcome,
} from "./metrics.js";
export {
  answerHealthRequest,
  createHealthRequestListener,
  healthMiddleware,
  healthFetchHandler,
  matchesHealthRequest,
  HEALTH_PATH,
  METRICS_PATH,
  type HealthEndpointsOptions,
  type EndpointAnswer,
} from "./endpoints.js";
