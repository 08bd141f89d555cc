// Public face of src/config: settings in (object + LITEFS_* env), litefs.yml out.

export type { LeaderElection, LiteFSSettings, LiteFSSettingsInput, ProxySettings, RaftSettings } from "./types.js";
export { loadSettings } from "./load.js";
export {
  renderLitefsConfig,
  litefsConfigDocument,
  serializeLitefsConfig,
  isGeneratedLitefsConfig,
  CONSUL_LEASE,
} from "./render.js";
export { litefsApiUrl, databasePath } from "./locations.js";
export { SETTINGS_REFERENCE, envNameOf, type SettingReference } from "./reference.js";
export { KNOWN_LITEFS_KEYS, findUnknownLitefsKeys } from "./litefs-keys.js";
export { goDurationToMs } from "./durations.js";
