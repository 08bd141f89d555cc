// Command registry. Commands load lazily so `litefs-node config` never pays for drizzle or prisma.
export type Command = (argv: string[]) => Promise<number>;

export const COMMANDS: Record<string, Command | undefined> = {
  config: async (argv) => (await import("./config.js")).configCommand(argv),
  status: async (argv) => (await import("./status.js")).statusCommand(argv),
  check: async (argv) => (await import("./check.js")).checkCommand(argv),
  migrate: async (argv) => (await import("./migrate.js")).migrateCommand(argv),
  forward: async (argv) => (await import("./forward.js")).forwardCommand(argv),
  run: async (argv) => (await import("./run.js")).runCommand(argv),
  handoff: async (argv) => (await import("./handoff.js")).handoffCommand(argv),
  "lease-server": async (argv) => (await import("./lease-server.js")).leaseServerCommand(argv),
};

/**
 * Old command names, still run with one warning line on stderr. `proxy` became `forward` so that
 * the command and its settings (LITEFS_FORWARD_*) share a name; LITEFS_PROXY_* are LiteFS's proxy.
 */
export const DEPRECATED_COMMANDS: Readonly<Record<string, string>> = { proxy: "forward" };

export const USAGE = `Usage: litefs-node <command> [options]

Commands:
  config [--out FILE]       render litefs.yml from the settings (LITEFS_* env)
  status [--json] [--timeout D]
                            role, primary, TXID, lag, election and split brain of this node
  check                     validate the settings and the LiteFS mount; non-zero exit on problems
  migrate [--wait [D]] -- <command ...>
                            run a migration command only on the primary
  migrate --drizzle <dir> | --prisma <dir>
                            apply migrations with the built-in appliers (primary only)
  forward                   write-forwarding proxy in front of this node's app (LITEFS_FORWARD_*;
                            formerly "proxy")
  run [--config FILE] [--migrate CMD] [--join-timeout D] [-- <app command ...>]
                            run this node: litefs.yml, the Raft lease service (raft mode),
                            then litefs mount with the app command as LiteFS's exec
  handoff [--to NODE]       move the primary to a caught-up replica without losing a write (raft)
  lease-server [--http-port N]
                            the Raft lease service alone (sidecar); lease.consul.url points at it

Options:
  --help, -h                help (also: litefs-node <command> --help)
  --version, -v             print the version

Durations (D) are Go durations ("90s", "5m") or plain seconds; --flag value and --flag=value both work.
Settings come from LITEFS_* environment variables; see README.md for the table.
`;
