#!/usr/bin/env node
/**
 * The admin CLI, installed as the package's `plexichat` bin (the compiled
 * `dist/src/cli/Main.js`; `npx plexichat --help` in the repository). It
 * reads the installation's Postgres from `DATABASE_URL`.
 */
import { Command } from "@effect/cli"
import * as NodeContext from "@effect/platform-node/NodeContext"
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import { Console, Effect } from "effect"
import { auditCommand } from "./AuditCommands.ts"

const plexichat = Command.make("plexichat").pipe(
  Command.withDescription("PlexiChat administration."),
  Command.withSubcommands([auditCommand])
)

const run = Command.run(plexichat, { name: "plexichat", version: "0.1.0" })

NodeRuntime.runMain(
  run(process.argv).pipe(
    Effect.provide(NodeContext.layer),
    Effect.tapErrorTag("SqlError", (error) => Console.error(`database: ${error.message}`))
  ),
  { disablePrettyLogger: true }
)
