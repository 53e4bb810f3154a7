/**
 * The admin CLI's exit codes, which scripts may rely on (README, "Admin CLI"):
 *
 * | code | meaning |
 * |---|---|
 * | 0 | done |
 * | 1 | refused or failed: the node said no (`Forbidden`, `AccountNotFound`, `WeakPassword`, …), or a check failed |
 * | 2 | usage or configuration: a bad flag or argument, a missing `--url` / `DATABASE_URL`, a bad credentials file |
 * | 3 | unreachable or unavailable: no answer from the node, or it answered `ServiceUnavailable` (retry later) |
 * | 4 | not signed in: no credentials, or they were refused (`Unauthorized`, `InvalidCredentials`, an expired login) |
 * | 5 | incompatible: the node does not serve this CLI's protocol version (`IncompatibleProtocol`) |
 */
import { Console, Data, Effect } from "effect"

export const ExitCode = { ok: 0, refused: 1, usage: 2, unreachable: 3, unauthenticated: 4, incompatible: 5 } as const
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode]

/** A command's failure: its message goes to stderr, its code becomes the process's exit status. */
export class CliFailure extends Data.TaggedError("CliFailure")<{ readonly code: ExitCode; readonly message: string }> {}

export const fail = (code: ExitCode, message: string) => Effect.fail(new CliFailure({ code, message }))

/** Prints the failure and sets the exit status (the process exits when its work is done). */
export const report = (failure: CliFailure) =>
  Effect.zipRight(Console.error(failure.message), Effect.sync(() => {
    process.exitCode = failure.code
  }))
