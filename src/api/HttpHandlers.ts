/**
 * Handlers of the REST API (`/api/v1`), on top of ChatService.
 */
import * as HttpApiBuilder from "@effect/platform/HttpApiBuilder"
import { Effect, Layer, Redacted } from "effect"
import { CurrentUser } from "../../domain/Api.ts"
import type { UserId } from "../../domain/Ids.ts"
import { HttpAuthentication, PlexiHttpApi } from "../../domain/Http.ts"
import { currentUserOf, TokenVerifier } from "../auth/TokenVerifier.ts"
import { AdminUsersLive } from "./AdminUsersHandlers.ts"
import { AdminFlagsLive } from "./OperationsRpcHandlers.ts"
import { AdminRolesLive, AuditLive } from "./AdminHandlers.ts"
import { AdminUnlockLive } from "./AdminUnlockHandlers.ts"
import { AuthLive, SessionsLive } from "./AuthHandlers.ts"
import { MfaLive } from "./MfaHandlers.ts"
import { ChatService } from "./ChatService.ts"
import { clientOf } from "./ClientAddress.ts"
import { makeLocateAccess } from "./LocateAccess.ts"
import { NodeStatus } from "./NodeStatus.ts"
import { OidcAccountLive, OidcLive } from "./OidcHandlers.ts"
import { RateLimiter } from "./RateLimiter.ts"
import { WebAuthnKeysLive, WebAuthnLive } from "./WebAuthnHandlers.ts"

export const HttpAuthenticationLive = Layer.effect(
  HttpAuthentication,
  Effect.gen(function*() {
    const tokens = yield* TokenVerifier
    const limiter = yield* RateLimiter
    return HttpAuthentication.of({
      bearer: (token) =>
        tokens.verifyClaims(Redacted.value(token)).pipe(
          Effect.tap((claims) => limiter.take(claims.userId)),
          Effect.map(currentUserOf),
          Effect.tapError((error) => Effect.logDebug("REST request refused", error._tag))
        )
    })
  })
)

const SystemLive = HttpApiBuilder.group(PlexiHttpApi, "system", (handlers) =>
  Effect.gen(function*() {
    const status = yield* NodeStatus
    const visible = yield* makeLocateAccess
    return handlers
      .handle("health", () => status.health)
      .handle("ready", () => status.ready)
      .handle("locate", ({ path }) =>
        Effect.zipRight(
          visible(path.channelId),
          Effect.zipWith(status.locate(path.channelId), status.health, (location, health) => ({
            channelId: path.channelId,
            ...location,
            nodeId: health.nodeId
          }))
        ))
  }))

const ChannelsLive = HttpApiBuilder.group(PlexiHttpApi, "channels", (handlers) =>
  Effect.gen(function*() {
    const chat = yield* ChatService
    const caller = Effect.map(CurrentUser, (u) => u.userId)
    /** The caller and the address their request came from (for the entity's audit entries). */
    const asCaller = <A, E, R>(f: (userId: UserId, ip: string) => Effect.Effect<A, E, R>) =>
      Effect.flatMap(Effect.zip(caller, clientOf), ([userId, client]) => f(userId, client.ip))
    return handlers
      .handle("create", ({ payload }) => asCaller((userId, ip) => chat.createChannel(userId, payload.name, payload.visibility ?? "public", ip)))
      .handle("join", ({ path }) => asCaller((userId, ip) => chat.join(userId, path.channelId, ip)))
      .handle("addMember", ({ path, payload }) =>
        asCaller((actorId, ip) => chat.addMember(actorId, path.channelId, payload.userId, payload.role ?? "member", ip)))
      .handle("removeMember", ({ path }) => asCaller((actorId, ip) => chat.removeMember(actorId, path.channelId, path.userId, ip)))
      .handle("updateChannel", ({ path, payload }) => asCaller((actorId, ip) => chat.updateChannel(actorId, path.channelId, payload, ip)))
      .handle("leave", ({ path }) => asCaller((userId, ip) => chat.leave(userId, path.channelId, ip)))
      .handle("post", ({ path, payload }) =>
        Effect.flatMap(caller, (userId) => chat.post(userId, path.channelId, payload.clientMsgId, payload.body)))
      .handle("history", ({ path, urlParams }) =>
        asCaller((userId, ip) => chat.history(userId, path.channelId, urlParams.afterSeq ?? 0, urlParams.limit ?? 100, ip)))
      .handle("me", () => Effect.flatMap(caller, (userId) => chat.me(userId)))
  }))

/** Every group of the REST API implemented, with its authentication middleware (for `HttpLayerRouter.addHttpApi`). */
export const HttpGroupsLive = Layer.mergeAll(
  SystemLive,
  AuthLive,
  MfaLive,
  SessionsLive,
  OidcLive,
  OidcAccountLive,
  WebAuthnLive,
  WebAuthnKeysLive,
  ChannelsLive,
  AdminUsersLive,
  AdminRolesLive,
  AuditLive,
  AdminUnlockLive,
  AdminFlagsLive
).pipe(
  Layer.provideMerge(HttpAuthenticationLive)
)
