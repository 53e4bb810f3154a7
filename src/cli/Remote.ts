/**
 * How the remote commands reach a cluster: the node's URL (`--url`, else
 * `PLEXI_URL`, else the stored login's), the credentials (`--token` /
 * `PLEXI_TOKEN`; `--username` / `PLEXI_USERNAME` with `--password` /
 * `PLEXI_PASSWORD`; else the login `plexichat login` stored, refreshed when
 * its access token is about to expire), and the typed RPC client
 * (`plexichat/client`), whose failures become the CLI's exit codes
 * (CliExit.ts). No token or password is ever printed.
 */
import { Options } from "@effect/cli"
import type { FileSystem, Path } from "@effect/platform"
import { Effect, Option, Redacted } from "effect"
import { PlexiClient } from "../client/PlexiClient.ts"
import { CliFailure, ExitCode, fail } from "./CliExit.ts"
import { credentialsPath, remoteConfig } from "./RemoteConfig.ts"
import * as StoredLogin from "./StoredLogin.ts"

/** The options every remote command takes. */
export const remoteOptions = {
  url: Options.text("url").pipe(Options.withDescription("Base URL of any node (default: PLEXI_URL, else the stored login's)."), Options.optional),
  token: Options.redacted("token").pipe(Options.withDescription("An access token to call with (default: PLEXI_TOKEN)."), Options.optional),
  username: Options.text("username").pipe(Options.withDescription("Sign in as this account for this command (default: PLEXI_USERNAME)."), Options.optional),
  password: Options.redacted("password").pipe(
    Options.withDescription("Its password (default: PLEXI_PASSWORD; prefer the variable: flags show in the process list)."),
    Options.optional
  )
}

export const jsonOption = Options.boolean("json").pipe(Options.withDescription("Print JSON instead of a table."))

export interface RemoteFlags {
  readonly url: Option.Option<string>
  readonly token: Option.Option<Redacted.Redacted>
  readonly username: Option.Option<string>
  readonly password: Option.Option<Redacted.Redacted>
}

export type Credentials =
  | { readonly _tag: "Token"; readonly token: string }
  | { readonly _tag: "Password"; readonly username: string; readonly password: string }
  | { readonly _tag: "Stored"; readonly file: string; readonly login: StoredLogin.StoredLogin }
  | { readonly _tag: "None"; readonly file: string }

export interface Target {
  readonly url: string
  readonly credentials: Credentials
}

const tagOf = (error: unknown) => (typeof error === "object" && error !== null && "_tag" in error ? String(error._tag) : "")
const messageOf = (error: unknown) => {
  const e = error as { message?: unknown; reason?: unknown }
  return String(e.message ?? e.reason ?? "").slice(0, 300)
}

/** A typed failure of an RPC (or of the client) as the CLI's failure. */
export const asFailure = (url: string) => (error: unknown): CliFailure => {
  const tag = tagOf(error)
  if (tag === "CliFailure") return error as CliFailure
  const message = messageOf(error)
  const code = tag === "RpcClientError" || tag === "ServiceUnavailable" || tag === "RateLimited" || tag === "TimeoutException"
    ? ExitCode.unreachable
    : ["Unauthorized", "InvalidCredentials", "InvalidRefreshToken", "AccountDisabled", "MfaRequired"].includes(tag)
    ? ExitCode.unauthenticated
    : tag === "IncompatibleProtocol"
    ? ExitCode.incompatible
    : ExitCode.refused
  if (tag === "RpcClientError") return new CliFailure({ code, message: `cannot reach ${url}: ${message}` })
  if (tag === "TimeoutException") return new CliFailure({ code, message: `${url} did not answer within 30 s` })
  return new CliFailure({ code, message: `${tag || "failed"}: ${message}` })
}

/** Runs `body` with a client for `url` (and `token`), mapping every failure to a `CliFailure`. */
export const withClient = <A, E>(url: string, token: string | undefined, body: (client: PlexiClient["Type"]) => Effect.Effect<A, E>) =>
  Effect.flatMap(PlexiClient, body).pipe(
    Effect.timeout("30 seconds"),
    Effect.provide(PlexiClient.layer(token === undefined ? { url } : { url, token })),
    Effect.mapError(asFailure(url))
  )

const checkedUrl = (text: string) => {
  try {
    const url = new URL(text)
    if (url.protocol === "http:" || url.protocol === "https:") return Effect.succeed(url.origin)
  } catch {
    // answered below
  }
  return fail(ExitCode.usage, `--url / PLEXI_URL: not an http(s) URL: ${text.slice(0, 100)}`)
}

/** The node and the credentials to use, from the flags, the environment and the stored login. */
export const resolveTarget = (flags: RemoteFlags): Effect.Effect<Target, CliFailure, FileSystem.FileSystem | Path.Path> =>
  Effect.gen(function*() {
    const settings = yield* Effect.mapError(remoteConfig, (e) => new CliFailure({ code: ExitCode.usage, message: `configuration: ${e}` }))
    const file = credentialsPath(settings)
    const token = Option.orElse(flags.token, () => settings.token)
    const username = Option.orElse(flags.username, () => settings.username)
    const password = Option.orElse(flags.password, () => settings.password)
    const stored = Option.isNone(token) && Option.isNone(username) ? yield* StoredLogin.read(file) : undefined
    const urlText = Option.getOrUndefined(Option.orElse(flags.url, () => settings.url)) ?? stored?.url
    if (urlText === undefined) return yield* fail(ExitCode.usage, "no node given: pass --url or set PLEXI_URL (or run plexichat login --url …)")
    const url = yield* checkedUrl(urlText)
    if (Option.isSome(token)) return { url, credentials: { _tag: "Token", token: Redacted.value(token.value) } }
    if (Option.isSome(username)) {
      if (Option.isNone(password)) return yield* fail(ExitCode.usage, "--username needs a password: set PLEXI_PASSWORD (or pass --password)")
      return { url, credentials: { _tag: "Password", username: username.value, password: Redacted.value(password.value) } }
    }
    return { url, credentials: stored === undefined ? { _tag: "None", file } : { _tag: "Stored", file, login: stored } }
  })

const notSignedIn = (file: string) =>
  fail(ExitCode.unauthenticated, `not signed in: run plexichat login, pass --token or --username (with PLEXI_PASSWORD), or set PLEXI_TOKEN (no login in ${file})`)

/** A fresh access token from the stored login: its own while it has a minute left, else a refresh (stored at once). */
const storedAccess = (url: string, file: string) =>
  StoredLogin.withLock(
    file,
    Effect.gen(function*() {
      // Read again under the lock: another command may have refreshed it meanwhile.
      const login = yield* StoredLogin.read(file)
      if (login === undefined) return yield* notSignedIn(file)
      if (login.accessTokenExpiresAt - Date.now() > 60_000) return login.accessToken
      const tokens = yield* withClient(url, undefined, (c) => c.Refresh({ refreshToken: login.refreshToken }))
      yield* StoredLogin.write(file, { ...login, ...tokens, url: login.url })
      return tokens.accessToken
    })
  )

/** An access token for `target`, or `NotSignedIn` (exit 4). */
export const accessToken = (target: Target) => {
  const { credentials, url } = target
  switch (credentials._tag) {
    case "Token":
      return Effect.succeed(credentials.token)
    case "Password":
      return Effect.map(
        withClient(url, undefined, (c) => c.Login({ username: credentials.username, password: credentials.password, deviceName: "plexichat CLI" })),
        (t) => t.accessToken
      )
    case "Stored":
      return storedAccess(url, credentials.file)
    case "None":
      return notSignedIn(credentials.file)
  }
}

/** Runs `body` against the target's node, signed in. */
export const signedIn = <A, E>(flags: RemoteFlags, body: (client: PlexiClient["Type"]) => Effect.Effect<A, E>) =>
  Effect.gen(function*() {
    const target = yield* resolveTarget(flags)
    const token = yield* accessToken(target)
    return yield* withClient(target.url, token, body)
  })
