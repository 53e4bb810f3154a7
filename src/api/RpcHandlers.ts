/**
 * Handlers of the public typed RPC group (`/rpc`), on top of ChatService.
 */
import { Effect, Layer, Stream } from "effect"
import { ChatRpcs, CurrentUser, RpcAuthentication } from "../../domain/Api.ts"
import { currentUserOf, TokenVerifier } from "../auth/TokenVerifier.ts"
import { ChannelHub } from "../messaging/ChannelHub.ts"
import { AuditLog } from "../audit/AuditLog.ts"
import { RoleChange } from "../roles/RoleChange.ts"
import { auditHead, auditQuery } from "./AdminHandlers.ts"
import { ChatService } from "./ChatService.ts"
import { PEER_ADDRESS_HEADER } from "./ClientAddress.ts"
import { RateLimiter } from "./RateLimiter.ts"

/** Authenticates each RPC from its `authorization` header and applies the caller's rate limit. */
export const RpcAuthenticationLive = Layer.effect(
  RpcAuthentication,
  Effect.gen(function*() {
    const tokens = yield* TokenVerifier
    const limiter = yield* RateLimiter
    return RpcAuthentication.of(({ headers }) =>
      tokens.verifyHeader(headers["authorization"]).pipe(
        Effect.tap((claims) => limiter.take(claims.userId)),
        Effect.map(currentUserOf),
        Effect.tapError((error) => Effect.logDebug("RPC call refused", error._tag))
      )
    )
  })
)

export const ChatRpcsLive = ChatRpcs.toLayer(Effect.gen(function*() {
  const chat = yield* ChatService
  const hub = yield* ChannelHub
  const caller = Effect.map(CurrentUser, (u) => u.userId)
  const [roles, audit] = [yield* RoleChange, yield* AuditLog]
  const queryAudit = auditQuery(roles, audit)
  const headOfAudit = auditHead(roles, audit)
  return ChatRpcs.of({
    CreateChannel: ({ name, visibility }, { headers }) =>
      Effect.flatMap(caller, (userId) => chat.createChannel(userId, name, visibility, headers[PEER_ADDRESS_HEADER])),
    JoinChannel: ({ channelId }, { headers }) => Effect.flatMap(caller, (userId) => chat.join(userId, channelId, headers[PEER_ADDRESS_HEADER])),
    AddMember: ({ channelId, role, userId }, { headers }) =>
      Effect.flatMap(caller, (actorId) => chat.addMember(actorId, channelId, userId, role, headers[PEER_ADDRESS_HEADER])),
    RemoveMember: ({ channelId, userId }, { headers }) =>
      Effect.flatMap(caller, (actorId) => chat.removeMember(actorId, channelId, userId, headers[PEER_ADDRESS_HEADER])),
    UpdateChannel: ({ channelId, ...changes }, { headers }) =>
      Effect.flatMap(caller, (actorId) => chat.updateChannel(actorId, channelId, changes, headers[PEER_ADDRESS_HEADER])),
    LeaveChannel: ({ channelId }, { headers }) => Effect.flatMap(caller, (userId) => chat.leave(userId, channelId, headers[PEER_ADDRESS_HEADER])),
    PostMessage: ({ body, channelId, clientMsgId }) =>
      Effect.flatMap(caller, (userId) => chat.post(userId, channelId, clientMsgId, body)),
    History: ({ afterSeq, channelId, limit }, { headers }) =>
      Effect.flatMap(caller, (userId) => chat.history(userId, channelId, afterSeq, limit, headers[PEER_ADDRESS_HEADER])),
    Subscribe: ({ afterSeq, channelId }, { headers }) =>
      Stream.unwrap(Effect.map(caller, (userId) => hub.stream(channelId, userId, afterSeq, headers[PEER_ADDRESS_HEADER]))),
    Me: () => Effect.flatMap(caller, (userId) => chat.me(userId)),
    QueryAudit: (q, { headers }) => Effect.flatMap(caller, (userId) => queryAudit(userId, q, headers[PEER_ADDRESS_HEADER])),
    GetAuditHead: (_, { headers }) => Effect.flatMap(caller, (userId) => headOfAudit(userId, headers[PEER_ADDRESS_HEADER]))
  })
}))
