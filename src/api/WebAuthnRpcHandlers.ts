/**
 * Handlers of the WebAuthn RPCs (domain/WebAuthnRpcs.ts), on the same
 * service as the REST handlers (WebAuthnHandlers.ts). The caller's address
 * and user agent come from the request's headers, as on REST.
 */
import { CurrentUser } from "../../domain/Api.ts"
import { Effect } from "effect"
import { WebAuthnKeyRpcs, WebAuthnRpcs } from "../../domain/WebAuthnRpcs.ts"
import { WebAuthn } from "../auth/WebAuthn.ts"
import { clientOfHeaders } from "./ClientAddress.ts"

export const WebAuthnRpcsLive = WebAuthnRpcs.toLayer(Effect.map(WebAuthn, (webauthn) =>
  WebAuthnRpcs.of({
    WebAuthnLoginOptions: (_, { headers }) => webauthn.loginOptions(clientOfHeaders(headers).ip),
    WebAuthnLogin: ({ challengeId, deviceName, response }, { headers }) =>
      webauthn.login(challengeId, response, { ...clientOfHeaders(headers), deviceName }),
    WebAuthnMfaOptions: ({ challenge }) => webauthn.mfaOptions(challenge),
    WebAuthnMfaVerify: (payload, { headers }) => webauthn.mfaVerify(payload, clientOfHeaders(headers))
  })))

export const WebAuthnKeyRpcsLive = WebAuthnKeyRpcs.toLayer(Effect.map(WebAuthn, (webauthn) =>
  WebAuthnKeyRpcs.of({
    WebAuthnRegistrationOptions: (request) => Effect.flatMap(CurrentUser, (caller) => webauthn.registrationOptions(caller.userId, request)),
    WebAuthnRegister: ({ challengeId, response }) =>
      Effect.flatMap(CurrentUser, (caller) => webauthn.verifyRegistration(caller.userId, challengeId, response)),
    ListWebAuthnKeys: () => Effect.flatMap(CurrentUser, (caller) => webauthn.keys(caller.userId)),
    DeleteWebAuthnKey: ({ keyId }) => Effect.flatMap(CurrentUser, (caller) => webauthn.deleteKey(caller.userId, keyId))
  })))
