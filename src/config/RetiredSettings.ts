/**
 * Variables that no longer exist. A node that still finds one set starts
 * (the variable grants nothing any more) and logs a warning naming it and
 * what replaced it, so a leftover in a deployment is noticed rather than
 * silently ignored. The values are read as `Config.redacted` and never shown.
 */
import { Config, Effect, Option } from "effect"

export interface RetiredSetting {
  readonly name: string
  /** What to do instead, for the warning. */
  readonly instead: string
}

const devTokensGone = "development tokens and POST /api/v1/dev/token were removed; sign up at POST /api/v1/auth/register"

export const retiredSettings: ReadonlyArray<RetiredSetting> = [
  { name: "PLEXI_DEV_AUTH", instead: devTokensGone },
  { name: "PLEXI_DEV_TOKEN_SECRET", instead: `${devTokensGone}; access tokens are signed with PLEXI_AUTH_SIGNING_KEYS` },
  { name: "PLEXI_DEV_TOKEN_TTL", instead: `${devTokensGone}; access tokens live PLEXI_AUTH_ACCESS_TTL` }
]

/** The retired variables set in the environment, by name. */
export const retiredInUse: Effect.Effect<ReadonlyArray<RetiredSetting>> = Effect.filter(
  retiredSettings,
  (setting) => Effect.map(Effect.orElseSucceed(Config.option(Config.redacted(setting.name)), () => Option.none()), Option.isSome)
)

/** Logs one warning per retired variable still set. */
export const warnRetiredSettings: Effect.Effect<void> = Effect.flatMap(retiredInUse, (found) =>
  Effect.forEach(found, ({ instead, name }) => Effect.logWarning(`${name} is set but no longer has any effect: ${instead}`), {
    discard: true
  }))
