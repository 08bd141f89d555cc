// The errors and guards both ORM entries (litefs-node/drizzle, litefs-node/prisma) re-export, so that
// an app catches them without a second import from the package root.
export {
  ConfigError,
  isConfigError,
  isLiteFSError,
  isNotPrimaryError,
  isSplitBrainError,
  LiteFSError,
  NotPrimaryError,
  SplitBrainError,
  type LiteFSErrorCode,
  type NotPrimaryReason,
} from "../errors.js";
