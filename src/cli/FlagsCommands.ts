/**
 * `plexichat flags list|set` (owners and admins): the feature flags stored
 * in the database; `set <name> on|off` changes one at runtime (audited), and
 * every node sees it within `PLEXI_FLAGS_REFRESH`.
 */
import { Args, Command } from "@effect/cli"
import { Effect, Schema } from "effect"
import { FlagName } from "../../domain/FeatureFlags.ts"
import { CliFailure, ExitCode } from "./CliExit.ts"
import { emit, table, time } from "./Output.ts"
import { jsonOption, remoteOptions, signedIn } from "./Remote.ts"

const common = { ...remoteOptions, json: jsonOption }

const listCommand = Command.make("list", common, (o) =>
  Effect.flatMap(signedIn(o, (c) => c.ListFlags({})), (flags) =>
    emit(o.json, flags, (list) =>
      table(
        ["FLAG", "STATE", "HERE", "UPDATED", "BY"],
        list.map((f) => [f.name, f.enabled ? "on" : "off", f.effectiveHere ? "on" : "off", time(f.updatedAt), f.updatedBy])
      ))))
  .pipe(Command.withDescription("Lists the stored feature flags (a flag never set is off)."))

const setCommand = Command.make("set", {
  ...common,
  name: Args.text({ name: "name" }).pipe(Args.withDescription("The flag (lower-case letters, digits, '.', '_', '-').")),
  state: Args.choice([["on", true], ["off", false]], { name: "on|off" })
}, (o) =>
  Effect.gen(function*() {
    const name = yield* Effect.mapError(
      Schema.decodeUnknown(FlagName)(o.name),
      () => new CliFailure({ code: ExitCode.usage, message: `not a flag name (1 to 64 lower-case letters, digits, '.', '_', '-', starting with a letter): ${o.name.slice(0, 64)}` })
    )
    const flag = yield* signedIn(o, (c) => c.SetFlag({ name, enabled: o.state }))
    yield* emit(o.json, flag, (f) => `${f.name} is ${f.enabled ? "on" : "off"}`)
  })).pipe(Command.withDescription("Turns a flag on or off on every node (within PLEXI_FLAGS_REFRESH); audited."))

export const flagsCommand = Command.make("flags").pipe(
  Command.withDescription("Feature flags (owners and admins)."),
  Command.withSubcommands([listCommand, setCommand])
)
