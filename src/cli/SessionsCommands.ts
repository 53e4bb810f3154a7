/**
 * `plexichat sessions list|revoke`: `list` shows the signed-in account's own
 * sessions; `revoke --user <userId>` ends every session of another account
 * (owners and admins, RPC `RevokeUserSessions`), `revoke <sessionId>` one
 * of one's own.
 */
import { Args, Command, Options } from "@effect/cli"
import { Effect, Option, Schema } from "effect"
import { SessionId } from "../../domain/Ids.ts"
import { CliFailure, ExitCode, fail } from "./CliExit.ts"
import { emit, table, time } from "./Output.ts"
import { jsonOption, remoteOptions, signedIn } from "./Remote.ts"
import { userIdOf } from "./UsersCommands.ts"

const common = { ...remoteOptions, json: jsonOption }

const listCommand = Command.make("list", common, (o) =>
  Effect.flatMap(signedIn(o, (c) => c.ListSessions({})), (sessions) =>
    emit(o.json, sessions, (list) =>
      table(
        ["SESSION ID", "DEVICE", "IP", "CREATED", "LAST SEEN", "CURRENT"],
        list.map((s) => [s.id, s.deviceName, s.ip, time(s.createdAt), time(s.lastSeenAt), s.current ? "*" : ""])
      )))).pipe(Command.withDescription("Lists the signed-in account's own sessions."))

const revokeCommand = Command.make("revoke", {
  ...common,
  user: Options.text("user").pipe(Options.withDescription("End every session of this account (a user id)."), Options.optional),
  session: Args.text({ name: "session-id" }).pipe(Args.withDescription("One of your own sessions."), Args.optional)
}, (o) =>
  Effect.gen(function*() {
    if (Option.isSome(o.user) === Option.isSome(o.session)) return yield* fail(ExitCode.usage, "give either --user <userId> or a session id")
    if (Option.isSome(o.user)) {
      const userId = yield* userIdOf(o.user.value)
      const r = yield* signedIn(o, (c) => c.RevokeUserSessions({ userId }))
      return yield* emit(o.json, r, (x) => `${x.revoked} session(s) of ${userId} ended`)
    }
    const sessionId = yield* Effect.mapError(
      Schema.decodeUnknown(SessionId)(Option.getOrElse(o.session, () => "")),
      () => new CliFailure({ code: ExitCode.usage, message: "not a session id" })
    )
    const r = yield* signedIn(o, (c) => c.RevokeSession({ sessionId }))
    yield* emit(o.json, r, (x) => `${x.revoked} session(s) ended`)
  })).pipe(Command.withDescription("Ends every session of an account (--user), or one of your own."))

export const sessionsCommand = Command.make("sessions").pipe(
  Command.withDescription("Signed-in sessions."),
  Command.withSubcommands([listCommand, revokeCommand])
)
