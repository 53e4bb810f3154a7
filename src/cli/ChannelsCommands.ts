/** `plexichat channels list [--after <channelId>] [--limit N] [--json]`: every channel, private ones included (owners and admins). */
import { Command, Options } from "@effect/cli"
import { Effect, Option, Schema } from "effect"
import { ChannelId } from "../../domain/Ids.ts"
import { CliFailure, ExitCode, fail } from "./CliExit.ts"
import { emit, table, time } from "./Output.ts"
import { jsonOption, remoteOptions, signedIn } from "./Remote.ts"

const listCommand = Command.make("list", {
  ...remoteOptions,
  json: jsonOption,
  after: Options.text("after").pipe(Options.withDescription("Only channel ids after this one (paging)."), Options.optional),
  limit: Options.integer("limit").pipe(Options.withDescription("At most this many (1 to 500)."), Options.withDefault(100))
}, (o) =>
  Effect.gen(function*() {
    if (o.limit < 1 || o.limit > 500) return yield* fail(ExitCode.usage, "--limit: 1 to 500")
    const after = Option.isNone(o.after) ? undefined : yield* Effect.mapError(
      Schema.decodeUnknown(ChannelId)(o.after.value),
      () => new CliFailure({ code: ExitCode.usage, message: "--after: not a channel id" })
    )
    const channels = yield* signedIn(o, (c) => c.ListChannels(after === undefined ? { limit: o.limit } : { after, limit: o.limit }))
    yield* emit(o.json, channels, (list) =>
      table(
        ["CHANNEL ID", "NAME", "VISIBILITY", "MEMBERS", "CREATED BY", "CREATED"],
        list.map((ch) => [ch.channelId, ch.name, ch.visibility, ch.members, ch.createdBy, time(ch.createdAt)])
      ))
  })).pipe(Command.withDescription("Lists every channel by id, with its member count."))

export const channelsCommand = Command.make("channels").pipe(
  Command.withDescription("Channels (owners and admins)."),
  Command.withSubcommands([listCommand])
)
