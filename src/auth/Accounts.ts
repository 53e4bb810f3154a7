/**
 * Accounts and sessions, for every door that offers them (REST today):
 * registration, sign-in and refresh (`SignIn.ts`), and the caller's own
 * sessions and password (`SessionControl.ts`, a first password for an OIDC
 * account in `FirstPassword.ts`), and account administration
 * by owners and admins (`AccountAdmin.ts`). Passwords are Argon2id hashes
 * (`PasswordHasher.ts`); access tokens are signed JWTs (`AccessTokens.ts`);
 * refresh tokens are 32 random bytes, stored only as their SHA-256 and
 * rotated on every refresh. With a second factor, sign-in is two steps
 * (`mfa/`). Store failures become `ServiceUnavailable`
 * (logged); nothing else of the store leaks.
 */
import { Context, Effect, Layer } from "effect"
import * as AccountAdmin from "./AccountAdmin.ts"
import type { UserId } from "../../domain/Ids.ts"
import { makeAccountKit } from "./AccountKit.ts"
import * as FirstPassword from "./FirstPassword.ts"
import { makeMfa } from "./mfa/Mfa.ts"
import * as SessionControl from "./SessionControl.ts"
import * as SignIn from "./SignIn.ts"

export type { Caller, ClientInfo } from "./AccountKit.ts"

const make = Effect.gen(function*() {
  const kit = yield* makeAccountKit
  const mfa = yield* makeMfa(kit)
  return {
    register: SignIn.register(kit),
    login: SignIn.login(kit, mfa.gate),
    refresh: SignIn.refresh(kit),
    openSession: SignIn.openSession(kit),
    findAccount: (userId: UserId) => kit.stored(kit.store.findByUserId(userId)),
    logout: SessionControl.logout(kit),
    sessions: SessionControl.sessions(kit),
    revoke: SessionControl.revoke(kit),
    revokeAll: SessionControl.revokeAll(kit),
    changePassword: SessionControl.changePassword(kit),
    /** A first password for an account without one (OIDC), `FirstPassword.ts`. */
    setPassword: FirstPassword.setPassword(kit, mfa),
    disable: AccountAdmin.disable(kit),
    enable: AccountAdmin.enable(kit),
    resetPassword: AccountAdmin.resetPassword(kit),
    resetMfa: AccountAdmin.resetMfa(kit),
    /** Second factors: the second sign-in step and the caller's TOTP and backup codes (src/auth/mfa/). */
    mfa,
    /** What other sign-in methods (src/auth/oidc/) build on: the store, the token answers, the session records. */
    kit
  } as const
})

export class Accounts extends Context.Tag("plexichat/Accounts")<Accounts, Effect.Effect.Success<typeof make>>() {
  static readonly layer = Layer.effect(Accounts, make)
}
