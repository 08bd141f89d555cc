// Write forwarding and read-your-writes for self-hosted LiteFS clusters.
export {
  createForwardingProxy,
  type ForwardingProxy,
  type ForwardingProxyOptions,
  type ForwardingNodeView,
} from "./proxy.js";
export {
  loadForwardSettings,
  resolvePrimaryAddress,
  parseListenAddress,
  parseByteSize,
  parseDurationMs,
  FORWARD_ENV,
  DEFAULT_BODY_LIMIT_BYTES,
  DEFAULT_RYW_TIMEOUT_MS,
  DEFAULT_HEALTH_MAX_LAG_MS,
  DEFAULT_FORWARD_LISTEN,
  type ForwardSettings,
  type ForwardSettingsInput,
  type RywTimeoutMode,
} from "./settings.js";
export {
  waitForTxid,
  bindWaitForTxid,
  DEFAULT_TXID_WAIT_MS,
  type TxidSource,
  type WaitForTxidOptions,
} from "./wait-for-txid.js";
export { parseTxid, formatTxid, toTxid } from "../litefs/txid.js";
export { readCookie, requestTxid, setCookieTxid, txidSetCookie, TXID_COOKIE, TXID_HEADER } from "./txid.js";
export { LOOP_HEADER, flyReplayInstance } from "./http-io.js";
export { positionFileTxid } from "./position.js";
