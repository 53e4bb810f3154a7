/**
 * WebAuthn security keys, for every door that offers them (REST today):
 * registering, listing and deleting the caller's keys
 * (`WebAuthnRegistration.ts`), passwordless sign-in and the second factor
 * (`WebAuthnSignIn.ts`). Off unless `PLEXI_WEBAUTHN_RP_ID` is set
 * (`WebAuthnDisabled`). Challenges live in Postgres, so any node verifies a
 * ceremony another began; store failures become `ServiceUnavailable`.
 */
import { Context, Effect, Layer } from "effect"
import { makeWebAuthnKit } from "./WebAuthnKit.ts"
import * as WebAuthnRegistration from "./WebAuthnRegistration.ts"
import * as WebAuthnSignIn from "./WebAuthnSignIn.ts"

const make = Effect.map(makeWebAuthnKit, (kit) => ({
  registrationOptions: WebAuthnRegistration.registrationOptions(kit),
  verifyRegistration: WebAuthnRegistration.verifyRegistrationOf(kit),
  keys: WebAuthnRegistration.keys(kit),
  deleteKey: WebAuthnRegistration.deleteKey(kit),
  loginOptions: WebAuthnSignIn.loginOptions(kit),
  login: WebAuthnSignIn.login(kit),
  secondFactorOptions: WebAuthnSignIn.secondFactorOptions(kit),
  secondFactor: WebAuthnSignIn.secondFactor(kit)
}) as const)

export class WebAuthn extends Context.Tag("plexichat/WebAuthn")<WebAuthn, Effect.Effect.Success<typeof make>>() {
  static readonly layer = Layer.effect(WebAuthn, make)
}
