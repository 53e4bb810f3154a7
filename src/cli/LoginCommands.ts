/**
 * `plexichat login` and `plexichat logout`.
 *
 * `login --url <node> --username <name>` (password from `PLEXI_PASSWORD` or
 * `--password`; with a second factor, `--code <totp or backup code>`) signs
 * in and stores the login (StoredLogin.ts) in `PLEXI_CLI_CREDENTIALS`
 * (default `~/.config/plexichat/credentials.json`, mode 0600). Later
 * commands use it and refresh it. `logout` ends the stored session on the
 * node and deletes the file.
 */
import { Command, Options } from "@effect/cli"
import { Effect, Option } from "effect"
import type { TokenResponse } from "../../domain/Auth.ts"
import { CliFailure, ExitCode, fail } from "./CliExit.ts"
import { credentialsPath, remoteConfig } from "./RemoteConfig.ts"
import { asFailure, jsonOption, remoteOptions, resolveTarget, withClient } from "./Remote.ts"
import { emit } from "./Output.ts"
import * as StoredLogin from "./StoredLogin.ts"

/** The stored login's file (RemoteConfig.ts). */
const storedPath = Effect.mapError(Effect.map(remoteConfig, credentialsPath), (e) => new CliFailure({ code: ExitCode.usage, message: `configuration: ${e}` }))

const signIn = (url: string, username: string, password: string, code: Option.Option<string>) =>
  withClient(url, undefined, (c) =>
    Effect.catchAll(c.Login({ username, password, deviceName: "plexichat CLI" }), (error): Effect.Effect<TokenResponse, unknown> =>
      error._tag !== "MfaRequired"
        ? Effect.fail(error)
        : Option.isNone(code)
        ? fail(ExitCode.unauthenticated, "this account has a second factor: pass --code <TOTP or backup code>")
        : c.CompleteMfa({ challenge: error.challenge, code: code.value })))

const loginCommand = Command.make("login", {
  ...remoteOptions,
  json: jsonOption,
  code: Options.text("code").pipe(Options.withDescription("A TOTP or backup code, for an account with a second factor."), Options.optional)
}, (o) =>
  Effect.gen(function*() {
    const target = yield* resolveTarget(o)
    if (target.credentials._tag !== "Password") {
      return yield* fail(ExitCode.usage, "login needs --username (or PLEXI_USERNAME) and PLEXI_PASSWORD (or --password)")
    }
    const { password, username } = target.credentials
    const tokens = yield* signIn(target.url, username, password, o.code)
    const path = yield* storedPath
    yield* StoredLogin.write(path, {
      url: target.url,
      userId: tokens.userId,
      username: tokens.username,
      refreshToken: tokens.refreshToken,
      refreshTokenExpiresAt: tokens.refreshTokenExpiresAt,
      accessToken: tokens.accessToken,
      accessTokenExpiresAt: tokens.accessTokenExpiresAt
    })
    yield* emit(o.json, { url: target.url, userId: tokens.userId, username: tokens.username, role: tokens.role, credentials: path }, (v) =>
      `signed in as ${v.username} (${v.userId}, ${v.role}) at ${v.url}; login stored in ${v.credentials} (mode 0600)`)
  })).pipe(Command.withDescription("Signs in and stores the login (mode 0600) for later commands."))

const logoutCommand = Command.make("logout", { json: jsonOption }, (o) =>
  Effect.gen(function*() {
    const path = yield* storedPath
    const login = yield* StoredLogin.read(path)
    if (login === undefined) return yield* emit(o.json, { loggedOut: false }, () => `no stored login in ${path}`)
    // End the session on the node (best effort: an unreachable node or an expired login still leaves no file behind).
    const ended = yield* withClient(login.url, undefined, (c) => c.Refresh({ refreshToken: login.refreshToken })).pipe(
      Effect.flatMap((t) => withClient(login.url, t.accessToken, (c) => c.Logout({}))),
      Effect.as(true),
      Effect.catchAll((e) => Effect.as(Effect.logDebug("logout on the node failed", asFailure(login.url)(e)), false))
    )
    yield* StoredLogin.remove(path)
    yield* emit(o.json, { loggedOut: true, sessionEnded: ended }, () =>
      `removed ${path}${ended ? "; the session is ended" : "; the node could not be told (the session ends when its refresh token expires)"}`)
  })).pipe(Command.withDescription("Ends the stored login's session and deletes its file."))

export { loginCommand, logoutCommand }
