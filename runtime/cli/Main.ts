#!/usr/bin/env node
/**
 * The admin CLI, installed as the package's `plexichat` bin (the compiled
 * `dist/runtime/cli/Main.js`; `npx plexichat --help` in the repository). The
 * `audit` and `migrate` commands read the installation's Postgres from
 * `DATABASE_URL`; `login`, `status`, `users`, `channels`, `sessions` and
 * `flags` (and `bench`, a load run) talk to a running node over the typed RPC client (`--url` or
 * `PLEXI_URL`). Exit codes: CliExit.ts (README, "Admin CLI").
 */
import { Command, ValidationError } from "@effect/cli"
import * as NodeContext from "@effect/platform-node/NodeContext"
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import { ConfigError, Console, Effect } from "effect"
import { migrateCommand } from "./MigrateCommand.ts"
import { PACKAGE_VERSION } from "../Release.ts"
import { migrateInTransaction } from "../sql/Migrations.ts"
import { auditCommand } from "../../src/cli/AuditCommands.ts"
import { backupCommand } from "../../src/cli/BackupCommands.ts"
import { benchCommand } from "../../src/cli/BenchCommand.ts"
import { channelsCommand } from "../../src/cli/ChannelsCommands.ts"
import { ExitCode, report } from "../../src/cli/CliExit.ts"
import { flagsCommand } from "../../src/cli/FlagsCommands.ts"
import { loginCommand, logoutCommand } from "../../src/cli/LoginCommands.ts"
import { sessionsCommand } from "../../src/cli/SessionsCommands.ts"
import { statusCommand } from "../../src/cli/StatusCommand.ts"
import { usersCommand } from "../../src/cli/UsersCommands.ts"

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
    benchCommand,
    migrateCommand
  ])
)

const run = Command.run(plexichat, { name: "plexichat", version: PACKAGE_VERSION })

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
