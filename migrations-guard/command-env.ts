// The environment a migration command runs with. Prisma's CLI (prisma.config.ts:
// `url: env("DATABASE_URL")`) and drizzle-kit configs usually read DATABASE_URL; deriving it from
// the settings keeps it on the database the node actually serves, instead of asking users to keep
// it in sync with LITEFS_MOUNT_PATH / LITEFS_DATABASE by hand.
import { databasePath, type LiteFSSettings } from "../src/config/index.js";

/** `env` with DATABASE_URL=file:<the node's database> unless the caller already set one. */
export function migrationCommandEnv(env: NodeJS.ProcessEnv, settings: LiteFSSettings): NodeJS.ProcessEnv {
  if (env.DATABASE_URL !== undefined && env.DATABASE_URL !== "") return env;
  return { ...env, DATABASE_URL: `file:${databasePath(settings)}` };
}
