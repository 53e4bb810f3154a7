/**
 * The checks of a WebAuthn response, on top of `@simplewebauthn/server`
 * (which runs on WebCrypto). The client data (ceremony type, challenge,
 * origin) is checked here first so that each refusal gets a precise reason;
 * the library then checks all of it again along with the RP id hash, the
 * flags, the signature counter and the signature or attestation. Its other
 * refusals are plain `Error`s, sorted into reasons by their message.
 */
import {
  type AuthenticationResponseJSON,
  type RegistrationResponseJSON,
  verifyAuthenticationResponse,
  verifyRegistrationResponse
} from "@simplewebauthn/server"
import { Effect } from "effect"
import type { AuthenticationResponse, RegistrationResponse } from "../../domain/WebAuthn.ts"
import type { WebAuthnFailureReason } from "../../domain/WebAuthnErrors.ts"

/** Why a response was refused, with a message for the client. */
export interface Refusal {
  readonly reason: WebAuthnFailureReason
  readonly message: string
}

/** ES256, EdDSA and RS256: what security keys and platform authenticators use. */
export const supportedAlgorithms = [-7, -8, -257]

export interface Expected {
  readonly challenge: string
  readonly origins: ReadonlyArray<string>
  readonly rpId: string
}

const refusal = (reason: WebAuthnFailureReason, message: string): Refusal => ({ reason, message })

/** The client data the browser signed over: its ceremony type, our challenge and the page's origin. */
const checkClientData = (clientDataJSON: string, type: string, expected: Expected): Refusal | undefined => {
  let data: unknown
  try {
    data = JSON.parse(Buffer.from(clientDataJSON, "base64url").toString("utf8"))
  } catch {
    return refusal("invalid", "clientDataJSON is not base64url-encoded JSON")
  }
  if (typeof data !== "object" || data === null) return refusal("invalid", "clientDataJSON is not a JSON object")
  const fields = data as Record<string, unknown>
  if (fields.type !== type) return refusal("invalid", `clientDataJSON.type is not ${type}`)
  if (fields.challenge !== expected.challenge) return refusal("challenge", "the response was not made for this challenge")
  if (typeof fields.origin !== "string" || !expected.origins.includes(fields.origin)) {
    return refusal("origin", "the response comes from an origin this installation does not serve WebAuthn on")
  }
  if (fields.crossOrigin === true) return refusal("origin", "the response was made in a cross-origin frame")
  return undefined
}

/** Sorts one of the library's refusals into a reason (its errors are plain `Error`s with a message). */
const libraryRefusal = (error: unknown): Refusal => {
  const message = error instanceof Error ? error.message : String(error)
  if (/RP ID/i.test(message)) return refusal("rp_id", "the authenticator signed for another relying party (RP id)")
  if (/counter/i.test(message)) {
    return refusal("counter", "the signature counter did not increase: the authenticator may have been cloned")
  }
  if (/user verification/i.test(message)) {
    return refusal("user_verification", "this sign-in needs user verification (a PIN or biometrics) on the authenticator")
  }
  return refusal("invalid", "the response does not verify")
}

/**
 * The library's JSON shapes, from our decoded (and bounded) ones: only what
 * it reads (transports and extension results are not part of verification;
 * transports are stored from the request itself).
 */
const registrationJson = (r: RegistrationResponse): RegistrationResponseJSON => ({
  id: r.id,
  rawId: r.rawId,
  type: r.type,
  response: { clientDataJSON: r.response.clientDataJSON, attestationObject: r.response.attestationObject },
  clientExtensionResults: {}
})

const authenticationJson = (r: AuthenticationResponse): AuthenticationResponseJSON => ({
  id: r.id,
  rawId: r.rawId,
  type: r.type,
  response: {
    clientDataJSON: r.response.clientDataJSON,
    authenticatorData: r.response.authenticatorData,
    signature: r.response.signature,
    ...(r.response.userHandle === undefined ? {} : { userHandle: r.response.userHandle })
  },
  clientExtensionResults: {}
})

const verifying = <A>(run: () => Promise<A>) => Effect.tryPromise({ try: run, catch: libraryRefusal })

/** Verifies a registration (attestation `none` or any the library knows); answers the new credential. */
export const verifyRegistration = (response: RegistrationResponse, expected: Expected) =>
  Effect.gen(function*() {
    const clientProblem = checkClientData(response.response.clientDataJSON, "webauthn.create", expected)
    if (clientProblem !== undefined) return yield* Effect.fail(clientProblem)
    const result = yield* verifying(() =>
      verifyRegistrationResponse({
        response: registrationJson(response),
        expectedChallenge: expected.challenge,
        expectedOrigin: [...expected.origins],
        expectedRPID: expected.rpId,
        requireUserVerification: false,
        supportedAlgorithmIDs: supportedAlgorithms
      })
    )
    if (!result.verified) return yield* Effect.fail(refusal("invalid", "the registration does not verify"))
    return result.registrationInfo.credential
  })

export interface KnownCredential {
  readonly id: string
  readonly publicKey: Uint8Array<ArrayBuffer>
  readonly counter: number
}

/** Verifies an assertion against a stored credential; answers the authenticator's new counter. */
export const verifyAssertion = (
  response: AuthenticationResponse,
  expected: Expected,
  credential: KnownCredential,
  requireUserVerification: boolean
) =>
  Effect.gen(function*() {
    const clientProblem = checkClientData(response.response.clientDataJSON, "webauthn.get", expected)
    if (clientProblem !== undefined) return yield* Effect.fail(clientProblem)
    const result = yield* verifying(() =>
      verifyAuthenticationResponse({
        response: authenticationJson(response),
        expectedChallenge: expected.challenge,
        expectedOrigin: [...expected.origins],
        expectedRPID: expected.rpId,
        credential: { id: credential.id, publicKey: credential.publicKey, counter: credential.counter },
        requireUserVerification
      })
    )
    if (!result.verified) return yield* Effect.fail(refusal("invalid", "the assertion does not verify"))
    return result.authenticationInfo.newCounter
  })
