/**
 * `plexichat users list|create|disable|enable|reset-mfa` over the typed RPCs
 * (owners and admins): `list` pages by username (`--after`, `--limit`);
 * `create <username>` takes the new password from `--new-password` or
 * `PLEXI_NEW_PASSWORD` and `--role` (admin, moderator, member, guest);
 * the others take a user id (`u_…`).
 */
import { Args, Command, Options } from "@effect/cli"
import { Config, Effect, Option, Redacted, Schema } from "effect"
import type { MfaReset } from "../../domain/AdminUsers.ts"
import type { AccountSummary } from "../../domain/Operations.ts"
import type { PlexiClient } from "../client/PlexiClient.ts"
import { UserId } from "../../domain/Ids.ts"
import { CliFailure, ExitCode, fail } from "./CliExit.ts"
import { emit, table, time } from "./Output.ts"
import { jsonOption, remoteOptions, signedIn } from "./Remote.ts"

const common = { ...remoteOptions, json: jsonOption }
const userIdArg = Args.text({ name: "user-id" }).pipe(Args.withDescription("The account's user id (u_…, as users list prints)."))

export const accountsTable = (accounts: ReadonlyArray<AccountSummary>) =>
  table(
    ["USER ID", "USERNAME", "ROLE", "STATE", "MFA", "SESSIONS", "EMAIL", "CREATED"],
    accounts.map((a) => [a.userId, a.username, a.role, a.disabled ? "disabled" : "enabled", a.mfa ? "on" : "off", a.activeSessions, a.email, time(a.createdAt)])
  )

const listCommand = Command.make("list", {
  ...common,
  after: Options.text("after").pipe(Options.withDescription("Only usernames after this one (paging)."), Options.optional),
  limit: Options.integer("limit").pipe(Options.withDescription("At most this many (1 to 500)."), Options.withDefault(100))
}, (o) =>
  Effect.gen(function*() {
    if (o.limit < 1 || o.limit > 500) return yield* fail(ExitCode.usage, "--limit: 1 to 500")
    const accounts = yield* signedIn(o, (c) => c.ListAccounts(Option.isSome(o.after) ? { after: o.after.value, limit: o.limit } : { limit: o.limit }))
    yield* emit(o.json, accounts, accountsTable)
  })).pipe(Command.withDescription("Lists accounts by username."))

const newPassword = Config.redacted("PLEXI_NEW_PASSWORD").pipe(Config.option)

const createCommand = Command.make("create", {
  ...common,
  name: Args.text({ name: "username" }).pipe(Args.withDescription("The new account's username.")),
  newPassword: Options.redacted("new-password").pipe(Options.withDescription("The new account's password (default: PLEXI_NEW_PASSWORD)."), Options.optional),
  email: Options.text("email").pipe(Options.withDescription("Its email address."), Options.optional),
  role: Options.choice("role", ["admin", "moderator", "member", "guest"]).pipe(Options.withDescription("Its workspace role."), Options.withDefault("member" as const))
}, (o) =>
  Effect.gen(function*() {
    const fromEnv = yield* Effect.mapError(newPassword, (e) => new CliFailure({ code: ExitCode.usage, message: `configuration: ${e}` }))
    const password = Option.orElse(o.newPassword, () => fromEnv)
    if (Option.isNone(password)) return yield* fail(ExitCode.usage, "the new account's password: pass --new-password or set PLEXI_NEW_PASSWORD")
    const request = { username: o.name, password: Redacted.value(password.value), role: o.role, ...(Option.isSome(o.email) ? { email: o.email.value } : {}) }
    const created = yield* signedIn(o, (c) => c.CreateAccount(request))
    yield* emit(o.json, created, (a) => `created ${a.username} (${a.userId}), role ${a.role}`)
  })).pipe(Command.withDescription("Creates an account (not signed in; the password rules apply; only an owner creates an admin)."))

/** A user id argument, or a usage failure naming it. */
export const userIdOf = (text: string) =>
  Effect.mapError(Schema.decodeUnknown(UserId)(text), () => new CliFailure({ code: ExitCode.usage, message: `not a user id: ${text.slice(0, 64)}` }))

const byId = <A, E>(
  name: string,
  description: string,
  call: (client: PlexiClient["Type"], userId: UserId) => Effect.Effect<A, E>,
  human: (result: A) => string
) =>
  Command.make(name, { ...common, userId: userIdArg }, (o) =>
    Effect.gen(function*() {
      const userId = yield* userIdOf(o.userId)
      yield* emit(o.json, yield* signedIn(o, (c) => call(c, userId)), human)
    })).pipe(
      Command.withDescription(description)
    )

const resetMfaLine = (r: MfaReset) =>
  `reset MFA of ${r.userId}: totp ${r.removed.totp ? "removed" : "none"}, ${r.removed.backupCodes} backup code(s), ` +
  `${r.removed.webauthnKeys} key(s); ${r.revoked} session(s) ended`

export const usersCommand = Command.make("users").pipe(
  Command.withDescription("Accounts (owners and admins)."),
  Command.withSubcommands([
    listCommand,
    createCommand,
    byId("disable", "Disables the account and ends its sessions on every node.", (c, userId) => c.DisableAccount({ userId }), (r) =>
      `disabled ${r.userId}; ${r.revoked} session(s) ended`),
    byId("enable", "Enables a disabled account.", (c, userId) => c.EnableAccount({ userId }), (r) => `enabled ${r.userId}`),
    byId("reset-mfa", "Removes every second factor of the account and ends its sessions.", (c, userId) => c.ResetMfa({ userId }), resetMfaLine)
  ])
)
