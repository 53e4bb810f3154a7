/**
 * REST handlers of WebAuthn security keys (`/api/v1/auth/webauthn/...`), on
 * top of `WebAuthn`. Answers carry `Cache-Control: no-store` like everything
 * under `/api/v1/auth/`. The key operations need an access token (a session):
 * a TEMPORARY dev token gets `Unauthorized` there, as for the session list.
 */
import { CurrentUser } from "../../domain/Api.ts"
import * as HttpApiBuilder from "@effect/platform/HttpApiBuilder"
import { Effect } from "effect"
import { PlexiHttpApi } from "../../domain/Http.ts"
import { WebAuthn } from "../auth/WebAuthn.ts"
import { clientOf } from "./ClientAddress.ts"

export const WebAuthnLive = HttpApiBuilder.group(PlexiHttpApi, "webauthn", (handlers) =>
  Effect.map(WebAuthn, (webauthn) =>
    handlers
      .handle("loginOptions", () => Effect.flatMap(clientOf, (client) => webauthn.loginOptions(client.ip)))
      .handle("login", ({ payload }) =>
        Effect.flatMap(clientOf, (client) =>
          webauthn.login(payload.challengeId, payload.response, { ...client, deviceName: payload.deviceName })))
      .handle("mfaOptions", ({ payload }) => webauthn.mfaOptions(payload.challenge))
      .handle("mfaVerify", ({ payload }) => Effect.flatMap(clientOf, (client) => webauthn.mfaVerify(payload, client)))))

export const WebAuthnKeysLive = HttpApiBuilder.group(PlexiHttpApi, "webauthnKeys", (handlers) =>
  Effect.map(WebAuthn, (webauthn) =>
    handlers
      .handle("registrationOptions", ({ payload }) =>
        Effect.flatMap(CurrentUser, (caller) => webauthn.registrationOptions(caller.userId, payload)))
      .handle("register", ({ payload }) =>
        Effect.flatMap(CurrentUser, (caller) => webauthn.verifyRegistration(caller.userId, payload.challengeId, payload.response)))
      .handle("list", () => Effect.flatMap(CurrentUser, (caller) => webauthn.keys(caller.userId)))
      .handle("delete", ({ path }) => Effect.flatMap(CurrentUser, (caller) => webauthn.deleteKey(caller.userId, path.keyId)))))
