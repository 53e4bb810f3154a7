/**
 * Settings of the sign-in and registration throttles (`LoginThrottle.ts`)
 * and of the per-address buckets of the token-less doors that store a row
 * (registration, refresh, WebAuthn sign-in options, OIDC sign-in starts),
 * in the `ShardingConfig` style: a tag, `defaults`, a validated `config`
 * read from the environment, `layer` and `layerFromEnv`. docs/SECURITY.md
 * ("Sign-in and registration limits") says what each defends against.
 */
import { Config, Context, Duration } from "effect"
import { configLayers } from "../config/ConfigLayers.ts"
import { positiveDuration, positiveInteger } from "../config/Settings.ts"
import type { TokenBucketOptions } from "../api/TokenBucket.ts"
import type { LoginPolicy } from "./LoginPolicy.ts"

export interface LoginThrottleShape {
  readonly delayAfter: number
  readonly delayBase: Duration.Duration
  readonly delayMax: Duration.Duration
  readonly lockAfter: number
  readonly lockDuration: Duration.Duration
  readonly accountLockAfter: number
  readonly accountLockDuration: Duration.Duration
  readonly addressLockAfter: number
  readonly addressLockDuration: Duration.Duration
  readonly failureWindow: Duration.Duration
  /** Sign-in attempts per address: a bucket of `loginBurst`, one more every `loginRefill`. */
  readonly loginBurst: number
  readonly loginRefill: Duration.Duration
  /** Registrations per address: a bucket of `registerBurst`, one more every `registerRefill`. */
  readonly registerBurst: number
  readonly registerRefill: Duration.Duration
  /** Token refreshes per address: a bucket of `refreshBurst`, one more every `refreshRefill`. */
  readonly refreshBurst: number
  readonly refreshRefill: Duration.Duration
  /** Token-less WebAuthn sign-in options per address (each stores a challenge): `webauthnOptionsBurst`, one more every `webauthnOptionsRefill`. */
  readonly webauthnOptionsBurst: number
  readonly webauthnOptionsRefill: Duration.Duration
  /** OpenID Connect sign-in starts per address (each stores a flow): `oidcStartBurst`, one more every `oidcStartRefill`. */
  readonly oidcStartBurst: number
  readonly oidcStartRefill: Duration.Duration
}

export class LoginThrottleConfig extends Context.Tag("plexichat/LoginThrottleConfig")<LoginThrottleConfig, LoginThrottleShape>() {}

export const defaults: LoginThrottleShape = {
  delayAfter: 3,
  delayBase: Duration.seconds(1),
  delayMax: Duration.seconds(30),
  lockAfter: 10,
  lockDuration: Duration.minutes(15),
  accountLockAfter: 50,
  accountLockDuration: Duration.minutes(5),
  addressLockAfter: 100,
  addressLockDuration: Duration.minutes(30),
  failureWindow: Duration.hours(1),
  loginBurst: 30,
  loginRefill: Duration.seconds(2),
  registerBurst: 10,
  registerRefill: Duration.minutes(6),
  refreshBurst: 120,
  refreshRefill: Duration.millis(500),
  webauthnOptionsBurst: 60,
  webauthnOptionsRefill: Duration.seconds(1),
  oidcStartBurst: 30,
  oidcStartRefill: Duration.seconds(2)
}

export const config: Config.Config<LoginThrottleShape> = Config.all({
  delayAfter: positiveInteger("PLEXI_LOGIN_DELAY_AFTER", defaults.delayAfter, "Failed sign-ins of one account from one address before each further attempt must wait."),
  delayBase: positiveDuration("PLEXI_LOGIN_DELAY_BASE", defaults.delayBase, "The first such wait; it doubles with each further failure."),
  delayMax: positiveDuration("PLEXI_LOGIN_DELAY_MAX", defaults.delayMax, "The longest such wait."),
  lockAfter: positiveInteger("PLEXI_LOGIN_LOCK_AFTER", defaults.lockAfter, "Failed sign-ins of one account from one address that lock that address out of the account."),
  lockDuration: positiveDuration("PLEXI_LOGIN_LOCK_DURATION", defaults.lockDuration, "How long that lock lasts."),
  accountLockAfter: positiveInteger(
    "PLEXI_LOGIN_ACCOUNT_LOCK_AFTER",
    defaults.accountLockAfter,
    "Failed sign-ins of one account from all addresses that lock the account for the addresses that failed on it."
  ),
  accountLockDuration: positiveDuration("PLEXI_LOGIN_ACCOUNT_LOCK_DURATION", defaults.accountLockDuration, "How long the account lock lasts."),
  addressLockAfter: positiveInteger("PLEXI_LOGIN_ADDRESS_LOCK_AFTER", defaults.addressLockAfter, "Failed sign-ins from one address (any accounts) that lock the address out of signing in."),
  addressLockDuration: positiveDuration("PLEXI_LOGIN_ADDRESS_LOCK_DURATION", defaults.addressLockDuration, "How long the address lock lasts."),
  failureWindow: positiveDuration("PLEXI_LOGIN_FAILURE_WINDOW", defaults.failureWindow, "Failures are forgotten this long after the first one counted."),
  loginBurst: positiveInteger("PLEXI_LOGIN_IP_BURST", defaults.loginBurst, "Sign-in attempts one address may make in a burst (cluster-wide)."),
  loginRefill: positiveDuration("PLEXI_LOGIN_IP_REFILL", defaults.loginRefill, "One more sign-in attempt per address every this long."),
  registerBurst: positiveInteger("PLEXI_REGISTER_IP_BURST", defaults.registerBurst, "Registrations one address may make in a burst (cluster-wide)."),
  registerRefill: positiveDuration("PLEXI_REGISTER_IP_REFILL", defaults.registerRefill, "One more registration per address every this long."),
  refreshBurst: positiveInteger("PLEXI_REFRESH_IP_BURST", defaults.refreshBurst, "Token refreshes one address may make in a burst (cluster-wide)."),
  refreshRefill: positiveDuration("PLEXI_REFRESH_IP_REFILL", defaults.refreshRefill, "One more token refresh per address every this long."),
  webauthnOptionsBurst: positiveInteger(
    "PLEXI_WEBAUTHN_OPTIONS_IP_BURST",
    defaults.webauthnOptionsBurst,
    "Passwordless WebAuthn sign-in options (each stores a challenge) one address may ask for in a burst (cluster-wide)."
  ),
  webauthnOptionsRefill: positiveDuration(
    "PLEXI_WEBAUTHN_OPTIONS_IP_REFILL",
    defaults.webauthnOptionsRefill,
    "One more passwordless WebAuthn options request per address every this long."
  ),
  oidcStartBurst: positiveInteger(
    "PLEXI_OIDC_START_IP_BURST",
    defaults.oidcStartBurst,
    "OpenID Connect sign-in starts (each stores a flow) one address may make in a burst (cluster-wide)."
  ),
  oidcStartRefill: positiveDuration("PLEXI_OIDC_START_IP_REFILL", defaults.oidcStartRefill, "One more OpenID Connect sign-in start per address every this long.")
})

const ms = Duration.toMillis

export const policyOf = (c: LoginThrottleShape): LoginPolicy => ({
  delayAfter: c.delayAfter,
  delayBaseMs: ms(c.delayBase),
  delayMaxMs: ms(c.delayMax),
  lockAfter: c.lockAfter,
  lockMs: ms(c.lockDuration),
  accountLockAfter: c.accountLockAfter,
  accountLockMs: ms(c.accountLockDuration),
  addressLockAfter: c.addressLockAfter,
  addressLockMs: ms(c.addressLockDuration),
  windowMs: ms(c.failureWindow)
})

export const bucketOf = (burst: number, refill: Duration.Duration): TokenBucketOptions => ({ burst, rate: 1000 / ms(refill) })

/** Every per-address bucket, by its name in `plexi_rate_buckets`. */
export const bucketsOf = (c: LoginThrottleShape) => ({
  login: bucketOf(c.loginBurst, c.loginRefill),
  register: bucketOf(c.registerBurst, c.registerRefill),
  refresh: bucketOf(c.refreshBurst, c.refreshRefill),
  webauthn_options: bucketOf(c.webauthnOptionsBurst, c.webauthnOptionsRefill),
  oidc_start: bucketOf(c.oidcStartBurst, c.oidcStartRefill)
}) as const

/** `layer(options)`: the defaults, `layerFromEnv(options)`: the environment, each with `options` on top. */
export const { layer, layerFromEnv } = configLayers(LoginThrottleConfig, defaults, config)
