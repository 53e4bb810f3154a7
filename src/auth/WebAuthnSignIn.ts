/**
 * Signing in with a security key: passwordless (a discoverable key with user
 * verification: the key finds the account, and possession plus PIN or
 * biometrics make two factors), and as the second factor of a sign-in that
 * began elsewhere (a password step; the challenge is then bound to that
 * sign-in's user and id).
 *
 * Each ceremony runs in one transaction: the challenge is taken (deleted),
 * the key's row locked, the assertion verified, the key's counter and last
 * use written and the session made. A refusal rolls all of it back; two
 * ceremonies with one challenge take turns on its row, and the second finds
 * it gone, so a replayed assertion is refused.
 */
import { generateAuthenticationOptions } from "@simplewebauthn/server"
import { Clock, Effect, Option } from "effect"
import type { UserId } from "../../domain/Ids.ts"
import type { AuthenticationResponse } from "../../domain/WebAuthn.ts"
import { WebAuthnAuthenticationRefused } from "../../domain/WebAuthnErrors.ts"
import type { ClientInfo } from "./AccountKit.ts"
import { userHandleOf, type WebAuthnKit } from "./WebAuthnKit.ts"
import type { Ceremony } from "./WebAuthnStore.ts"
import { verifyAssertion } from "./WebAuthnVerify.ts"

const refused = (reason: WebAuthnAuthenticationRefused["reason"], message: string) => new WebAuthnAuthenticationRefused({ reason, message })

const staleChallenge = () => refused("challenge", "this sign-in challenge is unknown, expired or used; ask for new options")

const unknownKey = () => refused("unknown_key", "no security key with this id is registered for this sign-in")

/**
 * Options for `navigator.credentials.get` with any discoverable key of this
 * relying party. Needs no token, and stores a challenge: one token of the
 * address's options budget first (`RateLimited` past it, nothing stored).
 */
export const loginOptions = (kit: WebAuthnKit) => (ip: string) =>
  Effect.gen(function*() {
    const rp = yield* kit.relyingParty
    yield* kit.accounts.kit.throttle.webauthnOptions(ip)
    const challenge = yield* kit.issueChallenge("login", {})
    const options = yield* Effect.promise(() =>
      generateAuthenticationOptions({
        rpID: rp.rpId,
        challenge: Buffer.from(challenge.challenge, "base64url"),
        timeout: rp.timeoutMs,
        userVerification: "required"
      })
    )
    return { challengeId: challenge.id, options }
  })

/**
 * Options for a second factor of `userId`'s sign-in `boundTo` (e.g. an MFA
 * challenge id): any of the user's keys, user presence enough.
 */
export const secondFactorOptions = (kit: WebAuthnKit) => (userId: UserId, boundTo: string) =>
  Effect.gen(function*() {
    const rp = yield* kit.relyingParty
    const allowCredentials = yield* kit.stored(kit.store.keyDescriptors(userId))
    if (allowCredentials.length === 0) return yield* unknownKey()
    const challenge = yield* kit.issueChallenge("second_factor", { userId, boundTo })
    const options = yield* Effect.promise(() =>
      generateAuthenticationOptions({
        rpID: rp.rpId,
        challenge: Buffer.from(challenge.challenge, "base64url"),
        timeout: rp.timeoutMs,
        allowCredentials,
        userVerification: "discouraged"
      })
    )
    return { challengeId: challenge.id, options }
  })

/** What a verified assertion proved: whose key signed, and the sign-in it was bound to. */
export interface Asserted {
  readonly userId: UserId
  readonly boundTo: Option.Option<string>
  readonly now: number
}

/**
 * One assertion ceremony in a transaction; `finish` runs inside it (making
 * the session), so that its failure rolls the ceremony back too.
 */
const assert = <A, E>(
  kit: WebAuthnKit,
  ceremony: Exclude<Ceremony, "register">,
  challengeId: string,
  response: AuthenticationResponse,
  finish: (asserted: Asserted) => Effect.Effect<A, E>
) =>
  Effect.gen(function*() {
    const rp = yield* kit.relyingParty
    const run = Effect.gen(function*() {
      const now = yield* Clock.currentTimeMillis
      const challenge = Option.getOrUndefined(yield* kit.store.takeChallenge(challengeId))
      if (challenge === undefined || challenge.ceremony !== ceremony || challenge.expiresAt <= now) return yield* staleChallenge()
      const key = Option.getOrUndefined(yield* kit.store.findKeyForUpdate(response.id))
      if (key === undefined) return yield* unknownKey()
      // A second factor must be signed by a key of the user who began the sign-in.
      if (Option.isSome(challenge.userId) && challenge.userId.value !== key.userId) return yield* unknownKey()
      const handle = response.response.userHandle
      if (handle !== undefined && handle !== Buffer.from(userHandleOf(key.userId)).toString("base64url")) {
        return yield* refused("invalid", "the authenticator's user handle is not the key owner's")
      }
      const counter = yield* Effect.mapError(
        verifyAssertion(
          response,
          { challenge: challenge.challenge, origins: rp.origins, rpId: rp.rpId },
          { id: key.id, publicKey: new Uint8Array(Buffer.from(key.publicKey, "base64url")), counter: key.counter },
          ceremony === "login"
        ),
        (refusal) => refused(refusal.reason, refusal.message)
      )
      yield* kit.store.recordUse(key.id, counter, now)
      return yield* finish({ userId: key.userId, boundTo: challenge.boundTo, now })
    })
    return yield* kit.stored(kit.store.transaction(run))
  })

/** The signing user's account and a new session for it, answered as a token pair. */
const sessionFor = (kit: WebAuthnKit, client: ClientInfo) => (asserted: Asserted) =>
  Effect.gen(function*() {
    const account = yield* kit.accounts.findAccount(asserted.userId)
    if (Option.isNone(account)) return yield* unknownKey()
    return yield* kit.accounts.openSession(account.value, client, asserted.now)
  })

/**
 * Passwordless sign-in: a discoverable key with user verification; answers
 * the token pair. The login throttle judges it first, by the account the
 * credential names (none for an unknown one: the address alone), and counts
 * a refusal as a failed password sign-in is counted, and audits it alike
 * (`auth.login_failed`, `method: "webauthn"`). A success writes nothing to
 * the throttle: it proved the key, not the password, so earlier password
 * failures of the pair stand.
 */
export const login = (kit: WebAuthnKit) => (challengeId: string, response: AuthenticationResponse, client: ClientInfo) =>
  Effect.gen(function*() {
    yield* kit.relyingParty
    const { audit, throttle } = kit.accounts.kit
    const owner = Option.getOrUndefined(yield* kit.stored(kit.store.findKeyOwner(response.id)))
    const ticket = yield* throttle.admitKey(owner?.username, client.ip)
    const tokens = yield* assert(kit, "login", challengeId, response, sessionFor(kit, client)).pipe(
      Effect.tapErrorTag("WebAuthnAuthenticationRefused", (refusal) =>
        Effect.zipRight(
          audit.record({
            action: "auth.login_failed",
            target: owner?.userId ?? null,
            ip: client.ip,
            details: { method: "webauthn", reason: refusal.reason, ...(owner === undefined ? {} : { username: owner.username }) }
          }),
          throttle.failedKey(ticket)
        ))
    )
    yield* Effect.logInfo("passwordless sign-in with a security key", { userId: tokens.userId })
    return tokens
  })

/**
 * A security key as the second factor of a sign-in: verifies the assertion
 * for the challenge `challengeId` (from `secondFactorOptions`), runs
 * `complete` with the sign-in it is bound to (which uses up that sign-in's
 * own challenge, may refuse, and answers the device name the sign-in gave),
 * and answers the token pair, all in one transaction.
 */
export const secondFactor = (kit: WebAuthnKit) =>
<E>(
  challengeId: string,
  response: AuthenticationResponse,
  client: ClientInfo,
  complete: (boundTo: string, userId: UserId) => Effect.Effect<{ readonly deviceName: string }, E>
) =>
  assert(kit, "second_factor", challengeId, response, (asserted) =>
    Effect.flatMap(
      Option.match(asserted.boundTo, {
        onNone: (): Effect.Effect<{ readonly deviceName: string }, E | WebAuthnAuthenticationRefused> => Effect.fail(staleChallenge()),
        onSome: (id) => complete(id, asserted.userId)
      }),
      ({ deviceName }) => sessionFor(kit, { ...client, deviceName })(asserted)
    ))
