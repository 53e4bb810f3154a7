/**
 * The cluster-wide per-user budgets (posts, joins, authenticated REST and
 * RPC requests), in the `ShardingConfig`
 * style: a tag, `defaults`, a validated `config` read from the environment,
 * `layer` and `layerFromEnv`. The User entity holds one token bucket per user
 * and budget with these rates (each `burst / rate` should stay within the
 * User entity's 5 s idle time, as the defaults do: see `UserEntity.ts`); nodes lease tokens from it
 * (`UserBudgets.ts`). Every node must have the same values: the node that
 * runs a user's entity applies its own.
 */
import { Config, Context } from "effect"
import type { Budget } from "../../domain/User.ts"
import { configLayers } from "../config/ConfigLayers.ts"
import { positiveNumber } from "../config/Settings.ts"
import type { TokenBucketOptions } from "./TokenBucket.ts"

export type UserBudgetSettings = Readonly<Record<Budget, TokenBucketOptions>>

export class UserBudgetConfig extends Context.Tag("plexichat/UserBudgetConfig")<UserBudgetConfig, UserBudgetSettings>() {}

export const defaults: UserBudgetSettings = {
  post: { rate: 20, burst: 60 },
  join: { rate: 2, burst: 10 },
  api: { rate: 50, burst: 200 }
}

const bucket = (name: string, fallback: TokenBucketOptions, what: string): Config.Config<TokenBucketOptions> =>
  Config.all({
    rate: positiveNumber(`PLEXI_${name}_RATE_LIMIT`, fallback.rate, `${what} per second per user, across every socket and node.`),
    burst: positiveNumber(`PLEXI_${name}_RATE_BURST`, fallback.burst, `${what} a user may make in a burst (token bucket size).`)
  })

export const config: Config.Config<UserBudgetSettings> = Config.all({
  post: bucket("POST", defaults.post, "Posts (WebSocket, REST and RPC together)"),
  join: bucket("JOIN", defaults.join, "Channel joins (REST and RPC)"),
  api: bucket("API", defaults.api, "Authenticated REST and typed-RPC requests")
})

/** `layer(options)`: the defaults, `layerFromEnv(options)`: the environment, each with `options` on top. */
export const { layer, layerFromEnv } = configLayers(UserBudgetConfig, defaults, config)
