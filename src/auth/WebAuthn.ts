/**
 * WebAuthn security keys, for every door that offers them (REST today):
 * registering, listing and deleting the caller's keys
 * (`WebAuthnRegistration.ts`), passwordless sign-in (`WebAuthnSignIn.ts`)
 * and completing the two-step sign-in's challenge (`WebAuthnMfa.ts`). Off
 * unless `PLEXI_WEBAUTHN_RP_ID` is set (`WebAuthnDisabled`). Challenges live in Postgres, so any node verifies a
 * ceremony another began; store failures become `ServiceUnavailable`.
 */
import { Context, Effect, Layer } from "effect"
import { makeWebAuthnKit } from "./WebAuthnKit.ts"
import { makeWebAuthnMfa } from "./WebAuthnMfa.ts"
import * as WebAuthnRegistration from "./WebAuthnRegistration.ts"
import * as WebAuthnSignIn from "./WebAuthnSignIn.ts"

const make = Effect.gen(function*() {
  const kit = yield* makeWebAuthnKit
  const mfa = yield* makeWebAuthnMfa(kit)
  return {
  registrationOptions: WebAuthnRegistration.registrationOptions(kit),
  verifyRegistration: WebAuthnRegistration.verifyRegistrationOf(kit),
  keys: WebAuthnRegistration.keys(kit),
  deleteKey: WebAuthnRegistration.deleteKey(kit),
  loginOptions: WebAuthnSignIn.loginOptions(kit),
  login: WebAuthnSignIn.login(kit),
  /** A security key as a factor of the two-step sign-in's challenge (`WebAuthnMfa.ts`). */
  mfaOptions: mfa.options,
  mfaVerify: mfa.verify
  } as const
})

export class WebAuthn extends Context.Tag("plexichat/WebAuthn")<WebAuthn, Effect.Effect.Success<typeof make>>() {
  static readonly layer = Layer.effect(WebAuthn, make)
}
