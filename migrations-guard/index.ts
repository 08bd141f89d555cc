// `import { migrateDrizzle, migratePrisma } from "litefs-node/migrations-guard"`: migrations
// that run on the LiteFS primary only. Replicas skip them (LiteFS replicates the schema) or wait
// until they have replicated; split brain and "no primary" refuse with typed errors.
export { migrateDrizzle, migratePrisma, runMigrationTargets } from "./migrate.js";
export type { MigrateOptions, MigrateDrizzleOptions, MigratePrismaOptions, MigrationResult } from "./migrate.js";
export type { MigrationNodeOptions } from "./migration-node.js";
export { runMigrationCommandOnPrimary } from "./command-guard.js";
export type { MigrationCommandOptions, MigrationCommandOutcome } from "./command-guard.js";
export {
  runCommand,
  signalExitCode,
  FORWARDED_SIGNALS,
  type CommandRunOptions,
  type CommandRunResult,
} from "./run-command.js";
export { DEFAULT_POLL_INTERVAL_MS, MIN_POLL_INTERVAL_MS, MAX_POLL_INTERVAL_MS, type WaitOptions } from "./wait.js";
export { detectMigrationTarget, type MigrationTarget } from "./targets.js";
export { judgeMigrationRole, type MigrationRole } from "./node-role.js";

export { readDrizzleFolder, drizzleHash, STATEMENT_BREAKPOINT, type DrizzleMigration } from "./drizzle-folder.js";
export { DEFAULT_DRIZZLE_MIGRATIONS_TABLE } from "./drizzle-bookkeeping.js";
export { applyDrizzleMigrations, missingDrizzleMigrations } from "./drizzle-apply.js";
export { readPrismaFolder, prismaChecksum, prismaChecksumMatches, type PrismaMigration } from "./prisma-folder.js";
export {
  PRISMA_MIGRATIONS_TABLE,
  CREATE_PRISMA_MIGRATIONS_TABLE,
  readPrismaRecords,
  type PrismaMigrationRecord,
  type PrismaRecordState,
} from "./prisma-bookkeeping.js";
export { applyPrismaMigrations, type PrismaApplyOptions } from "./prisma-apply.js";

export {
  MigrationError,
  MigrationTimeoutError,
  isMigrationError,
  isMigrationTimeoutError,
  type MigrationErrorKind,
} from "./errors.js";
export { LiteFSError, NotPrimaryError, SplitBrainError, isNotPrimaryError, isSplitBrainError } from "../src/errors.js";
