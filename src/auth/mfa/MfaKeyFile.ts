/**
 * The TOTP-secret key of a single embedded node that was given no
 * `PLEXI_AUTH_MFA_KEYS`: made at first start and kept in its data directory
 * (`<PLEXI_DATA_DIR>/mfa-keys`, mode 0600, `kid=secret` like the variable).
 * Unlike an access-token key it cannot be new at each start: the secrets it
 * seals live as long as the accounts' authenticators. It protects secrets
 * in a dump or copy of the database alone, not in a copy of the whole data
 * directory: set the variable (kept elsewhere) for that.
 */
import { randomBytes } from "node:crypto"
import { readFileSync, writeFileSync } from "node:fs"
import { Effect, Either } from "effect"
import { parseSigningKeys, type SigningKeys } from "../SigningKeys.ts"

export const loadOrCreateMfaKeyFile = (path: string): Effect.Effect<SigningKeys> =>
  Effect.gen(function*() {
    const made = yield* Effect.try(() => {
      // "wx": only if it does not exist yet, so an existing key is never replaced.
      writeFileSync(path, `local=${randomBytes(32).toString("hex")}\n`, { flag: "wx", mode: 0o600 })
      return true
    }).pipe(Effect.catchAll(() => Effect.succeed(false)))
    if (made) yield* Effect.logWarning(`PLEXI_AUTH_MFA_KEYS is not set: made a key for TOTP secrets in ${path}`)
    const text = yield* Effect.try(() => readFileSync(path, "utf8")).pipe(
      Effect.orDieWith((error) => new Error(`cannot read the TOTP-secret key file ${path}: ${String(error)}`))
    )
    return yield* Either.match(parseSigningKeys(text.trim(), path), {
      onLeft: (message) => Effect.dieMessage(message),
      onRight: Effect.succeed
    })
  })
