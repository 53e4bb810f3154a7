/**
 * The OpenID Connect operations of the REST API (`/api/v1/auth/oidc/...`):
 * sign-in needs no token; linking an identity to the caller's account,
 * listing and unlinking need an access token. Answers carry
 * `Cache-Control: no-store`, as everything under `/api/v1/auth/`.
 */
import * as HttpApiEndpoint from "@effect/platform/HttpApiEndpoint"
import * as HttpApiGroup from "@effect/platform/HttpApiGroup"
import * as HttpApiSchema from "@effect/platform/HttpApiSchema"
import * as OpenApi from "@effect/platform/OpenApi"
import { Schema } from "effect"
import { TokenResponse } from "./Auth.ts"
import { AccountDisabled, RegistrationClosed } from "./AuthErrors.ts"
import { MfaRequired } from "./MfaErrors.ts"
import { Forbidden, RateLimited, ServiceUnavailable } from "./Errors.ts"
import { HttpAuthentication } from "./HttpAuthentication.ts"
import {
  OidcCallbackParams,
  OidcFailed,
  OidcIdentity,
  OidcIdentityTaken,
  OidcLinked,
  OidcProviderId,
  OidcProviderInfo,
  OidcProviderNotFound,
  OidcStarted,
  Unlinked
} from "./Oidc.ts"

const provider = HttpApiSchema.param("provider", OidcProviderId)

export class OidcApi extends HttpApiGroup.make("oidc")
  .add(
    HttpApiEndpoint.get("providers", "/auth/oidc/providers")
      .addSuccess(Schema.Array(OidcProviderInfo))
      .annotate(OpenApi.Description, "The configured OpenID Connect providers (empty when none is).")
  )
  .add(
    HttpApiEndpoint.post("start")`/auth/oidc/${provider}/start`
      .addSuccess(OidcStarted)
      .addError(RateLimited)
      .annotate(
        OpenApi.Description,
        "Starts a sign-in: send the user to `authorizationUrl`; the provider sends the browser back to the redirect URI with `code` and `state`. " +
          "Each start stores a flow: past the per-address budget (PLEXI_OIDC_START_IP_BURST, PLEXI_OIDC_START_IP_REFILL), 429 RateLimited."
      )
  )
  .add(
    HttpApiEndpoint.get("callback")`/auth/oidc/${provider}/callback`
      .setUrlParams(OidcCallbackParams)
      .addSuccess(TokenResponse)
      .addError(MfaRequired)
      .addError(AccountDisabled)
      .addError(OidcFailed)
      .addError(OidcIdentityTaken)
      .addError(RegistrationClosed)
      .annotate(
        OpenApi.Description,
        "Completes a sign-in with the query the provider sent: the token pair of the identity's account (linked, else the " +
          "account with the same verified email, else a new account). A `state` works once."
      )
  )
  .addError(OidcProviderNotFound)
  .addError(ServiceUnavailable)
  .annotate(OpenApi.Description, "OpenID Connect sign-in (authorization-code flow with PKCE, state and nonce).")
{}

export class OidcAccountApi extends HttpApiGroup.make("oidcAccount")
  .add(
    HttpApiEndpoint.post("link")`/auth/oidc/${provider}/link`
      .addSuccess(OidcStarted)
      .annotate(OpenApi.Description, "Starts linking an identity of the provider to the caller's account.")
  )
  .add(
    HttpApiEndpoint.post("completeLink")`/auth/oidc/${provider}/link/complete`
      .setPayload(OidcCallbackParams)
      .addSuccess(OidcLinked)
      .addError(OidcFailed)
      .addError(OidcIdentityTaken)
      .annotate(
        OpenApi.Description,
        "Completes a link with the query the provider sent to the redirect URI, by the account that started it."
      )
  )
  .add(
    HttpApiEndpoint.get("identities", "/auth/oidc/identities")
      .addSuccess(Schema.Array(OidcIdentity))
      .annotate(OpenApi.Description, "The provider identities linked to the caller's account.")
  )
  .add(
    HttpApiEndpoint.del("unlink")`/auth/oidc/identities/${provider}`
      .addSuccess(Unlinked)
      .addError(Forbidden)
      .annotate(OpenApi.Description, "Unlinks the caller's identity of the provider (refused when it is the account's only way to sign in).")
  )
  .addError(OidcProviderNotFound)
  .addError(ServiceUnavailable)
  .middleware(HttpAuthentication)
{}
