/**
 * Handlers of the account RPCs (domain/AuthRpcs.ts), on the same services
 * as the REST handlers (AuthHandlers.ts, OidcHandlers.ts). The caller's
 * address and user agent come from the request's headers, as on REST.
 */
import { CurrentUser } from "../../domain/Api.ts"
import type * as Headers from "@effect/platform/Headers"
import { Effect } from "effect"
import { AuthRpcs, OidcAccountRpcs, SessionRpcs } from "../../domain/AuthRpcs.ts"
import { MfaRpcs } from "../../domain/MfaRpcs.ts"
import { Accounts } from "../auth/Accounts.ts"
import { Oidc } from "../auth/oidc/Oidc.ts"
import { PEER_ADDRESS_HEADER } from "./ClientAddress.ts"

const clientOf = (headers: Headers.Headers) => ({
  ip: headers[PEER_ADDRESS_HEADER] ?? "",
  userAgent: (headers["user-agent"] ?? "").slice(0, 256)
})

export const AuthRpcsLive = AuthRpcs.toLayer(Effect.gen(function*() {
  const accounts = yield* Accounts
  const oidc = yield* Oidc
  return AuthRpcs.of({
    Register: (payload, { headers }) => accounts.register(payload, { ...clientOf(headers), deviceName: payload.deviceName }),
    Login: (payload, { headers }) => accounts.login(payload, { ...clientOf(headers), deviceName: payload.deviceName }),
    CompleteMfa: (payload, { headers }) => accounts.mfa.complete(payload, clientOf(headers)),
    Refresh: ({ refreshToken }, { headers }) => accounts.refresh(refreshToken, clientOf(headers)),
    OidcProviders: () => Effect.succeed(oidc.list),
    OidcStart: ({ provider }, { headers }) => oidc.start(provider, clientOf(headers).ip),
    OidcComplete: ({ provider, ...params }, { headers }) => oidc.complete(provider, params, clientOf(headers))
  })
}))

export const SessionRpcsLive = SessionRpcs.toLayer(Effect.map(Accounts, (accounts) =>
  SessionRpcs.of({
    Logout: () => Effect.flatMap(CurrentUser, accounts.logout),
    ListSessions: () => Effect.flatMap(CurrentUser, accounts.sessions),
    RevokeSession: ({ sessionId }) => Effect.flatMap(CurrentUser, (caller) => accounts.revoke(caller, sessionId)),
    RevokeAllSessions: () => Effect.flatMap(CurrentUser, accounts.revokeAll),
    ChangePassword: ({ currentPassword, newPassword }) =>
      Effect.flatMap(CurrentUser, (caller) => accounts.changePassword(caller, currentPassword, newPassword)),
    SetPassword: (payload) => Effect.flatMap(CurrentUser, (caller) => accounts.setPassword(caller, payload))
  })))

export const MfaRpcsLive = MfaRpcs.toLayer(Effect.map(Accounts, ({ mfa }) =>
  MfaRpcs.of({
    GetMfaStatus: () => Effect.flatMap(CurrentUser, mfa.status),
    EnrolTotp: () => Effect.flatMap(CurrentUser, mfa.enrolTotp),
    ConfirmTotp: ({ code }) => Effect.flatMap(CurrentUser, (caller) => mfa.confirmTotp(caller, code)),
    DisableMfa: (proof) => Effect.flatMap(CurrentUser, (caller) => mfa.disable(caller, proof)),
    RegenerateBackupCodes: (proof) => Effect.flatMap(CurrentUser, (caller) => mfa.regenerateBackupCodes(caller, proof))
  })))

export const OidcAccountRpcsLive = OidcAccountRpcs.toLayer(Effect.map(Oidc, (oidc) => {
  const caller = Effect.map(CurrentUser, (u) => u.userId)
  return OidcAccountRpcs.of({
    OidcLink: ({ provider }) => Effect.flatMap(caller, (userId) => oidc.startLink(provider, userId)),
    OidcCompleteLink: ({ provider, ...params }) => Effect.flatMap(caller, (userId) => oidc.completeLink(userId, provider, params)),
    OidcIdentities: () => Effect.flatMap(caller, oidc.identities),
    OidcUnlink: ({ provider }) => Effect.flatMap(caller, (userId) => oidc.unlink(userId, provider))
  })
}))
