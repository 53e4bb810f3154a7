/**
 * OpenID Connect sign-in (`/api/v1/auth/oidc/...`): what its operations take
 * and answer, and their typed failures. The flow is the authorization-code
 * flow with PKCE, `state` and `nonce`: a client asks `start` for the
 * provider's authorization URL, sends the user there, and the provider sends
 * the browser back to the redirect URI with `code` and `state`, whose query
 * the client (or the browser itself) hands to `callback`.
 */
import * as HttpApiSchema from "@effect/platform/HttpApiSchema"
import { Schema } from "effect"

/** A configured provider's id, as in the paths (`[a-z0-9-]`, 1 to 32). */
export const OidcProviderId = Schema.String.pipe(Schema.pattern(/^[a-z0-9][a-z0-9-]{0,31}$/))

export const OidcProviderInfo = Schema.Struct({ id: Schema.String, name: Schema.String })

/**
 * Where to send the user, until when the started sign-in may complete (ms
 * since the epoch), and its `binding`: a secret the client keeps (never in a
 * URL it shares) and sends with the completion, which ties the flow to the
 * client that started it. Whoever else gets hold of the provider's redirect
 * (`code` and `state`) cannot complete it.
 */
export const OidcStarted = Schema.Struct({ authorizationUrl: Schema.String, expiresAt: Schema.Number, binding: Schema.String })

const QueryValue = Schema.String.pipe(Schema.maxLength(4096))

/**
 * The query the provider sent the browser back with, as it came (`code` and
 * `state`, `iss` where the provider sends it; or `error`), and the `binding`
 * the start answered.
 */
export const OidcCallbackParams = Schema.Struct({
  binding: Schema.optionalWith(QueryValue, { exact: true }),
  code: Schema.optionalWith(QueryValue, { exact: true }),
  state: Schema.optionalWith(QueryValue, { exact: true }),
  iss: Schema.optionalWith(QueryValue, { exact: true }),
  error: Schema.optionalWith(QueryValue, { exact: true }),
  error_description: Schema.optionalWith(QueryValue, { exact: true })
})
export type OidcCallbackParams = typeof OidcCallbackParams.Type

/** An identity of a provider linked to the caller's account. */
export const OidcIdentity = Schema.Struct({
  provider: Schema.String,
  subject: Schema.String,
  email: Schema.NullOr(Schema.String),
  linkedAt: Schema.Number
})
export type OidcIdentity = typeof OidcIdentity.Type

/** The answer of a link flow's callback: the identity now linked to the account that started it. */
export const OidcLinked = Schema.TaggedStruct("OidcLinked", { identity: OidcIdentity })

export const Unlinked = Schema.Struct({ unlinked: Schema.Int })

/** No provider with this id is configured on this installation. */
export class OidcProviderNotFound extends Schema.TaggedError<OidcProviderNotFound>()(
  "OidcProviderNotFound",
  { provider: Schema.String },
  HttpApiSchema.annotations({ status: 404 })
) {}

/**
 * Why a callback did not sign anyone in: `unknown_state` (no started sign-in
 * has this `state` and `binding`: never started, already completed, started
 * by another client, or of another provider), `expired` (started more than `PLEXI_OIDC_FLOW_TTL` ago),
 * `provider_error` (the provider answered an `error`, e.g. the user
 * declined), `rejected` (the code exchange or the ID token failed a check:
 * signature, issuer, audience, expiry, nonce, PKCE).
 */
export class OidcFailed extends Schema.TaggedError<OidcFailed>()(
  "OidcFailed",
  { reason: Schema.Literal("unknown_state", "expired", "provider_error", "rejected"), message: Schema.String },
  HttpApiSchema.annotations({ status: 400 })
) {}

/** The provider's identity is linked to another account already. */
export class OidcIdentityTaken extends Schema.TaggedError<OidcIdentityTaken>()(
  "OidcIdentityTaken",
  { message: Schema.String },
  HttpApiSchema.annotations({ status: 409 })
) {}
