// Public face of src/config: settings in (object + LITEFS_* env), litefs.yml out.

export type {
  ConsulSettings,
  ConsulSettingsInput,
  LeaderElection,
  LiteFSSettings,
  LiteFSSettingsInput,
  ProxySettings,
  ProxySettingsInput,
  RaftSettings,
  RaftSettingsInput,
} from "./types.js";
export { LEADER_ELECTIONS } from "./types.js";
export { loadSettings } from "./load.js";
export {
  renderLitefsConfig,
  litefsConfigDocument,
  serializeLitefsConfig,
  isGeneratedLitefsConfig,
  GENERATED_HEADER,
  CONSUL_LEASE,
  type RenderOptions,
} from "./render.js";
export { litefsApiUrl, databasePath } from "./locations.js";
export { SETTINGS_REFERENCE, envNameOf, type SettingReference, type EnvKind } from "./reference.js";
export { KNOWN_LITEFS_KEYS, findUnknownLitefsKeys, type LiteFSKeyTree } from "./litefs-keys.js";
export { goDurationToMs, GO_DURATION_EXAMPLES } from "./durations.js";
export { DEFAULTS as SETTING_DEFAULTS } from "./schema.js";
