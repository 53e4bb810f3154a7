/**
 * The login `plexichat login` stores: the node's URL, the account, the
 * refresh token, and the current access token with its expiry, in one JSON
 * file of mode 0600 in a directory of mode 0700 (RemoteConfig.ts names it).
 * It is rewritten atomically (a temporary file of mode 0600, then a rename)
 * each time a refresh rotates the tokens. Refreshes take turns on a lock
 * file next to it: two commands refreshing one token at once would look like
 * a stolen token to the node, which then ends the session. Nothing in the
 * file is ever printed.
 */
import { FileSystem, Path } from "@effect/platform"
import { Effect, Schedule, Schema } from "effect"
import { CliFailure, ExitCode } from "./CliExit.ts"

export const StoredLoginSchema = Schema.Struct({
  url: Schema.String,
  userId: Schema.String,
  username: Schema.String,
  refreshToken: Schema.String,
  refreshTokenExpiresAt: Schema.Number,
  accessToken: Schema.String,
  accessTokenExpiresAt: Schema.Number
})
export type StoredLogin = typeof StoredLoginSchema.Type

const decode = Schema.decodeUnknownEither(Schema.parseJson(StoredLoginSchema))

const badFile = (file: string, problem: string) =>
  new CliFailure({ code: ExitCode.usage, message: `credentials file ${file}: ${problem}; run plexichat login again` })

/** The stored login, if there is one. */
export const read = (file: string) =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    if (!(yield* fs.exists(file))) return undefined
    const info = yield* fs.stat(file)
    if ((info.mode & 0o077) !== 0) {
      return yield* badFile(file, `mode ${(info.mode & 0o777).toString(8)} lets others read it (it must be 0600)`)
    }
    const parsed = decode(yield* fs.readFileString(file))
    if (parsed._tag === "Left") return yield* badFile(file, "not a stored login")
    return parsed.right
  }).pipe(Effect.catchTag("SystemError", (e) => Effect.fail(badFile(file, `cannot be read (${e.reason})`))), Effect.catchTag("BadArgument", (e) => Effect.fail(badFile(file, e.message))))

/** Writes the login atomically with mode 0600 (its directory made with mode 0700). */
export const write = (file: string, login: StoredLogin) =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const path = yield* Path.Path
    yield* fs.makeDirectory(path.dirname(file), { recursive: true, mode: 0o700 })
    const temporary = `${file}.${process.pid}.tmp`
    yield* fs.writeFileString(temporary, JSON.stringify(login), { flag: "w", mode: 0o600 })
    // open()'s mode is masked by the umask: set it explicitly (only ever narrower).
    yield* fs.chmod(temporary, 0o600)
    yield* fs.rename(temporary, file)
  }).pipe(Effect.mapError((e) => badFile(file, `cannot be written (${e.message})`)))

export const remove = (file: string) =>
  Effect.flatMap(FileSystem.FileSystem, (fs) => fs.remove(file, { force: true })).pipe(Effect.mapError((e) => badFile(file, e.message)))

/**
 * Runs `body` holding the lock file `<file>.lock` (made with O_EXCL): other
 * commands wait for it, at most 10 s; a lock older than 30 s is taken for
 * one a killed command left behind and removed.
 */
export const withLock = <A, E, R>(file: string, body: Effect.Effect<A, E, R>) =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const lock = `${file}.lock`
    const take = fs.writeFileString(lock, String(process.pid), { flag: "wx", mode: 0o600 })
    const stale = Effect.flatMap(fs.stat(lock), (info) =>
      Effect.succeed(info.mtime._tag === "Some" && Date.now() - info.mtime.value.getTime() > 30_000))
    const attempt = Effect.catchAll(take, () =>
      Effect.flatMap(Effect.orElseSucceed(stale, () => false), (old) =>
        old ? Effect.zipRight(Effect.ignore(fs.remove(lock)), Effect.fail("retry" as const)) : Effect.fail("busy" as const)))
    yield* attempt.pipe(
      Effect.retry(Schedule.spaced("50 millis")),
      Effect.timeoutFail({ duration: "10 seconds", onTimeout: () => badFile(file, `another plexichat command holds ${lock}`) })
    )
    return yield* Effect.ensuring(body, Effect.ignore(fs.remove(lock)))
  })
