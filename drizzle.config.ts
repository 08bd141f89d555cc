// drizzle-kit's configuration for the example app (examples/schema.ts -> examples/drizzle/).
//
// drizzle-kit opens its OWN SQLite connection (no WAL switch, no write guard): run
// `drizzle-kit migrate` only through `litefs-node migrate -- npx drizzle-kit migrate`, which
// runs it on the primary alone, or use the built-in applier `litefs-node migrate --drizzle
// examples/drizzle`, which goes through the guarded driver.
import { defineConfig } from "drizzle-kit";
import { databasePath, loadSettings } from "./src/config/index.js";

export default defineConfig({
  dialect: "sqlite",
  schema: "./examples/schema.ts",
  out: "./examples/drizzle",
  dbCredentials: {
    // The same file the app opens: <mountPath>/<databaseName> on LiteFS, the dev file otherwise
    // (LITEFS_* environment; see the settings table in README.md). A getter, so `generate`
    // (which needs no database) works without the settings, and `migrate` names a bad one.
    get url(): string {
      return databasePath(loadSettings());
    },
  },
});
