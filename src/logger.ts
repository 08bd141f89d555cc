// The default pino logger of litefs-node: JSON to stderr, level from LITEFS_LOG_LEVEL, else
// "info" ("silent" under NODE_ENV=test so test runs stay readable). Every API that logs also
// accepts a `logger` option; this is only the fallback.
import { pino, type Logger } from "pino";
import { ConfigError } from "./errors.js";

export type { Logger };

let shared: Logger | null = null;

/** A process-wide default logger, created on first use. Throws ConfigError on a bad LITEFS_LOG_LEVEL. */
export function createDefaultLogger(env: NodeJS.ProcessEnv = process.env): Logger {
  if (shared && env === process.env) return shared;
  const level = env["LITEFS_LOG_LEVEL"] || (env["NODE_ENV"] === "test" ? "silent" : "info");
  const levels = ["fatal", "error", "warn", "info", "debug", "trace", "silent"];
  if (!levels.includes(level)) {
    throw new ConfigError([
      {
        setting: "logLevel",
        env: "LITEFS_LOG_LEVEL",
        message: `unknown log level "${level}"; use one of ${levels.join(", ")}`,
      },
    ]);
  }
  const logger = pino({ name: "litefs-node", level }, pino.destination({ dest: 2, sync: true }));
  if (env === process.env) shared = logger;
  return logger;
}
