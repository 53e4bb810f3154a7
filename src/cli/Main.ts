#!/usr/bin/env node
/**
 * The admin CLI, installed as the package's `plexichat` bin (the compiled
 * `dist/src/cli/Main.js`; `npx plexichat --help` in the repository). The
 * `audit` and `migrate` commands read the installation's Postgres from
 * `DATABASE_URL`; `login`, `status`, `users`, `channels`, `sessions` and
 * `flags` talk to a running node over the typed RPC client (`--url` or
 * `PLEXI_URL`). Exit codes: CliExit.ts (README, "Admin CLI").
 */
import { Command, ValidationError } from "@effect/cli"
import * as NodeContext from "@effect/platform-node/NodeContext"
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import { ConfigError, Console, Effect } from "effect"
// The CLI's entry point is wiring, like runtime/main.ts: it may take the migrations from runtime/ (.oxlintrc.json).
import { migrateCommand } from "../../runtime/cli/MigrateCommand.ts"
import { migrateInTransaction } from "../../runtime/sql/Migrations.ts"
import { auditCommand } from "./AuditCommands.ts"
import { backupCommand } from "./BackupCommands.ts"
import { channelsCommand } from "./ChannelsCommands.ts"
import { ExitCode, report } from "./CliExit.ts"
import { flagsCommand } from "./FlagsCommands.ts"
import { loginCommand, logoutCommand } from "./LoginCommands.ts"
import { sessionsCommand } from "./SessionsCommands.ts"
import { statusCommand } from "./StatusCommand.ts"
import { usersCommand } from "./UsersCommands.ts"

const plexichat = Command.make("plexichat").pipe(
  Command.withDescription("PlexiChat administration."),
  Command.withSubcommands([
    auditCommand,
    backupCommand(migrateInTransaction),
    loginCommand,
    logoutCommand,
    statusCommand,
    usersCommand,
    channelsCommand,
    sessionsCommand,
    flagsCommand,
    migrateCommand
  ])
)

const run = Command.run(plexichat, { name: "plexichat", version: "0.1.0" })

const exitWith = (code: number) =>
  Effect.sync(() => {
    process.exitCode = code
  })

NodeRuntime.runMain(
  run(process.argv).pipe(
    Effect.provide(NodeContext.layer),
    Effect.catchTag("CliFailure", report),
    Effect.tapErrorTag("SqlError", (error) => Console.error(`database: ${error.message}`)),
    // A bad flag or argument: @effect/cli has printed the problem and the usage already.
    Effect.catchIf(ValidationError.isValidationError, () => exitWith(ExitCode.usage)),
    // A missing or empty DATABASE_URL: say so in one line (the value itself is never printed).
    Effect.catchIf(ConfigError.isConfigError, (error) =>
      Effect.zipRight(
        Console.error(`configuration: ${String(error).replace(/: "<redacted>"/g, "")}; set DATABASE_URL to the installation's Postgres URL`),
        exitWith(ExitCode.usage)
      ))
  ),
  { disablePrettyLogger: true }
)
