#!/usr/bin/env node
/**
 * The admin CLI, installed as the package's `plexichat` bin (the compiled
 * `dist/src/cli/Main.js`; `npx plexichat --help` in the repository). It
 * reads the installation's Postgres from `DATABASE_URL`.
 */
import { Command } from "@effect/cli"
import * as NodeContext from "@effect/platform-node/NodeContext"
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import { ConfigError, Console, Effect } from "effect"
import { auditCommand } from "./AuditCommands.ts"
// The composition root of the CLI: a restore makes its target's schema with the nodes' own migrations.
// oxlint-disable-next-line no-restricted-imports
import { migrateInTransaction } from "../../runtime/sql/Migrations.ts"
import { backupCommand } from "./BackupCommands.ts"

const plexichat = Command.make("plexichat").pipe(
  Command.withDescription("PlexiChat administration."),
  Command.withSubcommands([auditCommand, backupCommand(migrateInTransaction)])
)

const run = Command.run(plexichat, { name: "plexichat", version: "0.1.0" })

NodeRuntime.runMain(
  run(process.argv).pipe(
    Effect.provide(NodeContext.layer),
    Effect.tapErrorTag("SqlError", (error) => Console.error(`database: ${error.message}`)),
    // A missing or empty DATABASE_URL: say so in one line (the value itself is never printed).
    Effect.catchIf(ConfigError.isConfigError, (error) =>
      Effect.zipRight(Console.error(`configuration: ${String(error).replace(/: "<redacted>"/g, "")}; set DATABASE_URL to the installation's Postgres URL`), Effect.sync(() => {
        process.exitCode = 2
      })))
  ),
  { disablePrettyLogger: true }
)
