/**
 * WebAuthn security keys (`/api/v1/auth/webauthn/...`): what the ceremonies
 * take and answer. Options are the W3C `PublicKeyCredential*OptionsJSON`
 * shapes (pass them to `navigator.credentials.create/get` after decoding the
 * base64url fields, e.g. with `@simplewebauthn/browser`); responses are the
 * `RegistrationResponseJSON` / `AuthenticationResponseJSON` shapes a browser's
 * `credential.toJSON()` gives. Every client value is bounded here (type and
 * size) before any verification runs; failures are in domain/WebAuthnErrors.ts.
 */
import { Schema } from "effect"
import { PasswordField } from "./Auth.ts"
import { MfaChallengeField, MfaCodeField } from "./Mfa.ts"
import { StorableText } from "./Text.ts"

/** A base64url string (no padding) of at most `max` characters. */
const Base64Url = (max: number) => Schema.String.pipe(Schema.maxLength(max), Schema.pattern(/^[A-Za-z0-9_-]*$/))

/** A credential id as sent: at most 1,023 bytes by the spec, so at most 1,364 base64url characters. */
export const CredentialIdField = Base64Url(1364).pipe(Schema.minLength(1))

/** A challenge id, as `…/options` answers it (`wc_<random>`). */
export const WebAuthnChallengeId = Schema.String.pipe(Schema.maxLength(64))

/** A name the user gives a key ("YubiKey 5C"), shown in the key list. */
export const KeyName = StorableText.pipe(Schema.minLength(1), Schema.maxLength(64))

const Transports = Schema.Array(Schema.String.pipe(Schema.maxLength(32))).pipe(Schema.maxItems(8))

const CredentialDescriptor = Schema.Struct({
  id: Schema.String,
  /** Always `public-key`. */
  type: Schema.String,
  transports: Schema.optional(Schema.Array(Schema.String))
})

/** The extensions the server asks for: `credProps` (whether the new key is discoverable). */
const Extensions = Schema.Struct({ credProps: Schema.optional(Schema.Boolean) })

/** `PublicKeyCredentialCreationOptionsJSON`, for `navigator.credentials.create({ publicKey })`. */
export const CreationOptions = Schema.Struct({
  challenge: Schema.String,
  rp: Schema.Struct({ id: Schema.optional(Schema.String), name: Schema.String }),
  user: Schema.Struct({ id: Schema.String, name: Schema.String, displayName: Schema.String }),
  pubKeyCredParams: Schema.Array(Schema.Struct({ type: Schema.Literal("public-key"), alg: Schema.Number })),
  timeout: Schema.optional(Schema.Number),
  excludeCredentials: Schema.optional(Schema.Array(CredentialDescriptor)),
  authenticatorSelection: Schema.optional(Schema.Struct({
    authenticatorAttachment: Schema.optional(Schema.String),
    residentKey: Schema.optional(Schema.String),
    requireResidentKey: Schema.optional(Schema.Boolean),
    userVerification: Schema.optional(Schema.String)
  })),
  hints: Schema.optional(Schema.Array(Schema.String)),
  attestation: Schema.optional(Schema.String),
  extensions: Schema.optional(Extensions)
})

/** `PublicKeyCredentialRequestOptionsJSON`, for `navigator.credentials.get({ publicKey })`. */
export const RequestOptions = Schema.Struct({
  challenge: Schema.String,
  rpId: Schema.optional(Schema.String),
  allowCredentials: Schema.optional(Schema.Array(CredentialDescriptor)),
  timeout: Schema.optional(Schema.Number),
  userVerification: Schema.optional(Schema.String),
  extensions: Schema.optional(Extensions)
})

/** What `…/options` answers: the options for the browser and the id to send back with its answer. */
export const RegistrationOptionsAnswer = Schema.Struct({ challengeId: Schema.String, options: CreationOptions })
export const AuthenticationOptionsAnswer = Schema.Struct({ challengeId: Schema.String, options: RequestOptions })

const ClientExtensionResults = Schema.Record({ key: Schema.String.pipe(Schema.maxLength(64)), value: Schema.Unknown })

/** `RegistrationResponseJSON`, as the browser answers `navigator.credentials.create`. */
export const RegistrationResponse = Schema.Struct({
  id: CredentialIdField,
  rawId: CredentialIdField,
  type: Schema.Literal("public-key"),
  response: Schema.Struct({
    clientDataJSON: Base64Url(8192),
    attestationObject: Base64Url(65_536),
    authenticatorData: Schema.optional(Base64Url(65_536)),
    transports: Schema.optional(Transports),
    publicKeyAlgorithm: Schema.optional(Schema.Int),
    publicKey: Schema.optional(Base64Url(8192))
  }),
  authenticatorAttachment: Schema.optional(Schema.String.pipe(Schema.maxLength(32))),
  clientExtensionResults: ClientExtensionResults
})
export type RegistrationResponse = typeof RegistrationResponse.Type

/** `AuthenticationResponseJSON`, as the browser answers `navigator.credentials.get`. */
export const AuthenticationResponse = Schema.Struct({
  id: CredentialIdField,
  rawId: CredentialIdField,
  type: Schema.Literal("public-key"),
  response: Schema.Struct({
    clientDataJSON: Base64Url(8192),
    authenticatorData: Base64Url(65_536),
    signature: Base64Url(8192),
    userHandle: Schema.optional(Base64Url(128))
  }),
  authenticatorAttachment: Schema.optional(Schema.String.pipe(Schema.maxLength(32))),
  clientExtensionResults: ClientExtensionResults
})
export type AuthenticationResponse = typeof AuthenticationResponse.Type

/**
 * Registering a key adds a way in (a passwordless sign-in that outlives a
 * password change), so it needs a proof besides the access token, as turning
 * MFA off does: a current TOTP or backup code (`code`, consumed) or the
 * account's password. Exactly one.
 */
export const RegistrationOptionsRequest = Schema.Struct({
  name: Schema.optional(KeyName),
  code: Schema.optional(MfaCodeField),
  password: Schema.optional(PasswordField)
})
export type RegistrationOptionsRequest = typeof RegistrationOptionsRequest.Type

export const RegistrationVerifyRequest = Schema.Struct({ challengeId: WebAuthnChallengeId, response: RegistrationResponse })

export const AuthenticationVerifyRequest = Schema.Struct({
  challengeId: WebAuthnChallengeId,
  response: AuthenticationResponse,
  deviceName: Schema.optional(StorableText.pipe(Schema.maxLength(64)))
})

/** A security key for the two-step sign-in: the `challenge` of the `MfaRequired` answer. */
export const MfaWebAuthnOptionsRequest = Schema.Struct({ challenge: MfaChallengeField })

/** Completes the two-step sign-in: its `challenge`, and the assertion for the options of `challengeId`. */
export const MfaWebAuthnVerifyRequest = Schema.Struct({
  challenge: MfaChallengeField,
  challengeId: WebAuthnChallengeId,
  response: AuthenticationResponse
})

/** One of the caller's keys. Times are milliseconds since the epoch; `lastUsedAt` is null until first use. */
export const WebAuthnKey = Schema.Struct({
  id: Schema.String,
  name: Schema.String,
  transports: Schema.Array(Schema.String),
  createdAt: Schema.Number,
  lastUsedAt: Schema.NullOr(Schema.Number)
})
export type WebAuthnKey = typeof WebAuthnKey.Type

export const KeyIdParam = CredentialIdField
