/**
 * The caller's security keys: registering one (options, then the browser's
 * answer verified), listing and deleting them. Registration needs an access
 * token and a proof (a current code or the password: a key is a new way in,
 * and a stolen access token alone must not plant one); its challenge is bound to the caller, so another user (or the same
 * user's other ceremony) cannot use it. A refused registration stores
 * nothing.
 */
import { generateRegistrationOptions } from "@simplewebauthn/server"
import { Clock, Effect, Option } from "effect"
import type { UserId } from "../../domain/Ids.ts"
import type { RegistrationOptionsRequest, RegistrationResponse } from "../../domain/WebAuthn.ts"
import { WebAuthnKeyLimit, WebAuthnKeyNotFound, WebAuthnRegistrationRefused } from "../../domain/WebAuthnErrors.ts"
import { MAX_KEYS_PER_ACCOUNT, userHandleOf, type WebAuthnKit } from "./WebAuthnKit.ts"
import { supportedAlgorithms, verifyRegistration } from "./WebAuthnVerify.ts"

const DEFAULT_KEY_NAME = "Security key"

const keyLimit = () =>
  new WebAuthnKeyLimit({
    max: MAX_KEYS_PER_ACCOUNT,
    message: `an account may have at most ${MAX_KEYS_PER_ACCOUNT} security keys; delete one first`
  })

const refused = (reason: WebAuthnRegistrationRefused["reason"], message: string) => new WebAuthnRegistrationRefused({ reason, message })

/** Options for `navigator.credentials.create`: a discoverable key is preferred (passwordless sign-in needs one). */
export const registrationOptions = (kit: WebAuthnKit) => (userId: UserId, request: RegistrationOptionsRequest) =>
  Effect.gen(function*() {
    const rp = yield* kit.relyingParty
    yield* kit.accounts.mfa.prove({ userId }, { code: request.code, password: request.password })
    const name = request.name
    const account = yield* kit.accounts.findAccount(userId)
    if (Option.isNone(account)) return yield* refused("challenge", "this account no longer exists")
    const existing = yield* kit.stored(kit.store.keyDescriptors(userId))
    if (existing.length >= MAX_KEYS_PER_ACCOUNT) return yield* keyLimit()
    const challenge = yield* kit.issueChallenge("register", { userId, keyName: name ?? DEFAULT_KEY_NAME })
    const options = yield* Effect.promise(() =>
      generateRegistrationOptions({
        rpName: rp.rpName,
        rpID: rp.rpId,
        userName: account.value.username,
        userDisplayName: account.value.username,
        userID: userHandleOf(userId),
        challenge: Buffer.from(challenge.challenge, "base64url"),
        timeout: rp.timeoutMs,
        attestationType: "none",
        excludeCredentials: existing,
        authenticatorSelection: { residentKey: "preferred", userVerification: "preferred" },
        supportedAlgorithmIDs: supportedAlgorithms
      })
    )
    return { challengeId: challenge.id, options }
  })

/** Verifies the browser's answer and stores the key; answers it as the key list shows it. */
export const verifyRegistrationOf = (kit: WebAuthnKit) => (userId: UserId, challengeId: string, response: RegistrationResponse) =>
  Effect.gen(function*() {
    const rp = yield* kit.relyingParty
    const ceremony = Effect.gen(function*() {
      const now = yield* Clock.currentTimeMillis
      const taken = yield* kit.store.takeChallenge(challengeId)
      const challenge = Option.getOrUndefined(taken)
      if (
        challenge === undefined || challenge.ceremony !== "register" || challenge.expiresAt <= now ||
        Option.getOrUndefined(challenge.userId) !== userId
      ) {
        return yield* refused("challenge", "this registration challenge is unknown, expired or used; ask for new options")
      }
      const keys = yield* kit.store.lockAccountKeys(userId)
      if (Option.isNone(keys)) return yield* refused("challenge", "this account no longer exists")
      if (keys.value >= MAX_KEYS_PER_ACCOUNT) return yield* keyLimit()
      const credential = yield* Effect.mapError(
        verifyRegistration(response, {
          challenge: challenge.challenge,
          origins: rp.origins,
          rpId: rp.rpId
        }),
        (refusal) => refused(refusal.reason, refusal.message)
      )
      const key = {
        id: credential.id,
        userId,
        publicKey: Buffer.from(credential.publicKey).toString("base64url"),
        counter: credential.counter,
        transports: response.response.transports ?? [],
        name: Option.getOrElse(challenge.keyName, () => DEFAULT_KEY_NAME),
        now
      }
      if (!(yield* kit.store.insertKey(key))) return yield* refused("already_registered", "this security key is already registered")
      return { id: key.id, name: key.name, transports: [...key.transports], createdAt: now, lastUsedAt: null }
    })
    const key = yield* kit.stored(kit.store.transaction(ceremony))
    yield* Effect.logInfo("webauthn key registered", { userId })
    return key
  })

export const keys = (kit: WebAuthnKit) => (userId: UserId) => kit.stored(kit.store.listKeys(userId))

export const deleteKey = (kit: WebAuthnKit) => (userId: UserId, keyId: string) =>
  Effect.gen(function*() {
    if (!(yield* kit.stored(kit.store.deleteKey(userId, keyId)))) return yield* new WebAuthnKeyNotFound({ keyId })
    yield* Effect.logInfo("webauthn key deleted", { userId })
    return { deleted: 1 }
  })
