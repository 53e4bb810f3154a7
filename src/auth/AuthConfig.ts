/**
 * Settings of accounts and sessions (src/auth/), in the `ShardingConfig`
 * style: a tag, `defaults`, a validated `config` read from the environment,
 * `layer(options)` and `layerFromEnv(options)`. A bad value is a start-up
 * error naming the variable; README's configuration table and
 * docs/SECURITY.md list the same names.
 */
import { availableParallelism } from "node:os"
import { Config, ConfigError, Context, Duration, Effect, Either, Option, Redacted } from "effect"
import { PASSWORD_FIELD_MAX } from "../../domain/Auth.ts"
import { configLayers } from "../config/ConfigLayers.ts"
import { integerAtLeast, positiveDuration, positiveInteger } from "../config/Settings.ts"
import { parseSigningKeys, type SigningKeys } from "./SigningKeys.ts"

/** Who may register: anyone, only the first account of an empty installation, or nobody. */
export type RegistrationMode = "open" | "first" | "closed"

/** Argon2id cost, as `@node-rs/argon2` takes it. */
export interface Argon2Cost {
  /** Memory per hash, in KiB. */
  readonly memoryKib: number
  /** Passes over the memory. */
  readonly timeCost: number
  /** Lanes (threads inside one hash; it changes the hash). */
  readonly parallelism: number
}

export interface AuthConfigShape {
  /** The signing keys (first signs, all verify); none: a single node makes a random key at start. */
  readonly signingKeys: Option.Option<Redacted.Redacted<SigningKeys>>
  readonly accessTtl: Duration.Duration
  readonly refreshTtl: Duration.Duration
  readonly registration: RegistrationMode
  readonly passwordMinLength: number
  readonly passwordMaxLength: number
  readonly argon2: Argon2Cost
  /** Password hashes computed at once on this node (each on a libuv worker thread). */
  readonly hashConcurrency: number
}

export class AuthConfig extends Context.Tag("plexichat/AuthConfig")<AuthConfig, AuthConfigShape>() {}

/**
 * Hashes at once by default: the node's cores minus one (1 to 4), so that a
 * burst of sign-ins leaves a core to the JavaScript thread and its fan-out
 * (on 2 cores, 2 at once doubled the delivery latency of live messages
 * during a burst, for no more sign-ins per second: docs/SECURITY.md).
 */
export const defaultHashConcurrency = Math.max(1, Math.min(4, availableParallelism() - 1))

/** OWASP's first Argon2id choice: 19 MiB, 2 passes, 1 lane. */
export const defaultArgon2: Argon2Cost = { memoryKib: 19_456, timeCost: 2, parallelism: 1 }

export const defaults: AuthConfigShape = {
  signingKeys: Option.none(),
  accessTtl: Duration.minutes(15),
  refreshTtl: Duration.days(30),
  registration: "open",
  passwordMinLength: 10,
  passwordMaxLength: 256,
  argon2: defaultArgon2,
  hashConcurrency: defaultHashConcurrency
}

const SIGNING_KEYS = "PLEXI_AUTH_SIGNING_KEYS"

const signingKeys = Config.option(
  Config.redacted(SIGNING_KEYS).pipe(
    Config.mapOrFail((raw) =>
      Either.match(parseSigningKeys(Redacted.value(raw), SIGNING_KEYS), {
        onLeft: (message) => Either.left(ConfigError.InvalidData([], message)),
        onRight: (keys) => Either.right(Redacted.make(keys))
      })
    )
  )
).pipe(Config.withDescription(
  "Access-token signing keys, kid=secret[,kid=secret...]: the first signs, all verify (secrets of 32+ characters, the same on every node)."
))

const registration = Config.literal("open", "first", "closed")("PLEXI_AUTH_REGISTRATION").pipe(
  Config.withDefault(defaults.registration),
  Config.withDescription("open: anyone may register; first: only the first account (the owner); closed: nobody.")
)

export const boundedInteger = (name: string, min: number, max: number, fallback: number, description: string) =>
  integerAtLeast(name, min, fallback, description).pipe(
    Config.validate({ message: `${name} must be a whole number from ${min} to ${max}`, validation: (n) => n <= max })
  )

export const config: Config.Config<AuthConfigShape> = Config.all({
  signingKeys,
  accessTtl: positiveDuration("PLEXI_AUTH_ACCESS_TTL", defaults.accessTtl, "Lifetime of an access token."),
  refreshTtl: positiveDuration(
    "PLEXI_AUTH_REFRESH_TTL",
    defaults.refreshTtl,
    "Lifetime of a refresh token; each refresh issues a new one, so a session idle for longer than this ends."
  ),
  registration,
  passwordMinLength: integerAtLeast("PLEXI_AUTH_PASSWORD_MIN_LENGTH", 8, defaults.passwordMinLength, "Shortest password accepted."),
  passwordMaxLength: boundedInteger(
    "PLEXI_AUTH_PASSWORD_MAX_LENGTH",
    8,
    PASSWORD_FIELD_MAX,
    defaults.passwordMaxLength,
    "Longest password accepted."
  ),
  argon2: Config.all({
    memoryKib: boundedInteger("PLEXI_AUTH_ARGON2_MEMORY_KIB", 1024, 4 * 1024 * 1024, defaultArgon2.memoryKib, "Argon2id memory per hash, KiB."),
    timeCost: boundedInteger("PLEXI_AUTH_ARGON2_TIME_COST", 1, 100, defaultArgon2.timeCost, "Argon2id passes."),
    parallelism: boundedInteger("PLEXI_AUTH_ARGON2_PARALLELISM", 1, 16, defaultArgon2.parallelism, "Argon2id lanes.")
  }),
  hashConcurrency: positiveInteger(
    "PLEXI_AUTH_HASH_CONCURRENCY",
    defaults.hashConcurrency,
    "Password hashes computed at once on a node (default: cores - 1, 1 to 4); more wait their turn."
  )
}).pipe(
  Config.validate({
    message: "PLEXI_AUTH_PASSWORD_MAX_LENGTH must not be below PLEXI_AUTH_PASSWORD_MIN_LENGTH",
    validation: (c) => c.passwordMaxLength >= c.passwordMinLength
  })
)

/** `layer(options)`: the defaults, `layerFromEnv(options)`: the environment, each with `options` on top. */
export const { layer, layerFromEnv } = configLayers(AuthConfig, defaults, config)

/**
 * A node others can reach (a cluster runner on Postgres: `shared`) needs
 * signing keys every node shares; a single node may make its own at start.
 */
export const requireSigningKeys = (c: AuthConfigShape, shared: boolean): Effect.Effect<void> =>
  shared && Option.isNone(c.signingKeys)
    ? Effect.dieMessage(
      `${SIGNING_KEYS} is not set: a node on Postgres needs signing keys shared by all nodes (kid=secret of 32+ characters)`
    )
    : Effect.void
