/**
 * A first password for an account made without one (an OpenID Connect
 * sign-in: its hash is `NO_PASSWORD`), set by a signed-in session. The
 * password rules apply; with TOTP on, a current TOTP or backup code is the
 * proof (there is no password to prove with), consumed in the same
 * transaction as the new hash, so a refused code writes nothing. An account
 * that has a password gets `PasswordAlreadySet` (it changes it with the
 * current one). The caller's other sessions stay open: nothing leaked (no
 * secret existed before), and the sessions are the holder's own sign-ins.
 */
import { Clock, Effect, Option } from "effect"
import type { PasswordSet } from "../../domain/Auth.ts"
import { PasswordAlreadySet } from "../../domain/AuthErrors.ts"
import { InvalidRequest, Unauthorized } from "../../domain/Errors.ts"
import type { AccountKit, Caller } from "./AccountKit.ts"
import type { Mfa } from "./mfa/Mfa.ts"
import { NO_PASSWORD } from "./PasswordHasher.ts"

const alreadySet = () =>
  new PasswordAlreadySet({ message: "this account has a password: change it with POST /api/v1/auth/password" })

/** Checks (and consumes) a code of the caller; a refusal is audited. */
const proven = (kit: AccountKit, mfa: Mfa, caller: Caller, code: string) =>
  mfa.prove(caller, { code }).pipe(
    Effect.catchTag("InvalidCredentials", () => Effect.dieMessage("a code proof checks no password")),
    Effect.tapErrorTag("InvalidMfaCode", (refused) =>
      kit.audit.record({ actor: caller.userId, action: "auth.password_set_failed", target: caller.userId, details: { reason: refused.reason } }))
  )

export const setPassword = (kit: AccountKit, mfa: Mfa) => (caller: Caller, input: { readonly newPassword: string; readonly code?: string | undefined }) =>
  Effect.gen(function*() {
    const found = yield* kit.stored(kit.store.findByUserId(caller.userId))
    if (Option.isNone(found)) return yield* new Unauthorized({ message: "this account no longer exists" })
    const account = found.value
    if (account.passwordHash !== NO_PASSWORD) return yield* alreadySet()
    yield* kit.policy(input.newPassword, account.username)
    const { totp } = yield* mfa.status(caller)
    if (totp === "on" && input.code === undefined) {
      return yield* new InvalidRequest({ message: "this account has MFA on: send a current TOTP or backup code as code" })
    }
    // The hash is made before the transaction, so that no connection is held while it is computed.
    const passwordHash = yield* kit.hasher.hash(input.newPassword)
    const now = yield* Clock.currentTimeMillis
    const set = yield* kit.stored(kit.store.transaction(Effect.gen(function*() {
      if (!(yield* kit.store.setFirstPassword(caller.userId, passwordHash, NO_PASSWORD, now))) return false
      // A code that is sent is checked (and consumed) even with TOTP off: a refused one rolls the password back.
      if (input.code !== undefined) yield* proven(kit, mfa, caller, input.code)
      return true
    })))
    if (!set) return yield* alreadySet()
    const proof = input.code === undefined ? "none" : "code"
    yield* Effect.logInfo("first password set", { userId: caller.userId, proof })
    yield* kit.audit.record({ actor: caller.userId, action: "auth.password_set", target: caller.userId, details: { proof } })
    return { userId: caller.userId, passwordSet: true } satisfies PasswordSet
  })
