/**
 * What a Channel entity's policy checks need besides its state: the actor's
 * workspace role (`WorkspaceRoles`, cached per node; a store failure is
 * `ChannelUnavailable`), the audit of every refusal
 * (`channel.<action>.denied`) and of the membership and settings changes
 * that are security events (`channel.member_added`, `channel.role_changed`,
 * `channel.member_removed`, `channel.updated`),
 * queued: it never holds up the handler. `ip` is the client's address the
 * edge put in the request (empty when it did not).
 */
import { Effect, Either } from "effect"
import type { PostItem, PostOutcome } from "../../../domain/Channel.ts"
import type { ChannelNotFound, Forbidden, NotAMember } from "../../../domain/Errors.ts"
import type { ChannelId, UserId } from "../../../domain/Ids.ts"
import { AuditLog } from "../../audit/AuditLog.ts"
import { WorkspaceRoles } from "../../roles/WorkspaceRoles.ts"
import type { Guards } from "./ChannelGuards.ts"

export type Refusal = ChannelNotFound | NotAMember | Forbidden

export const makeAccess = (channelId: ChannelId, guards: Guards) =>
  Effect.gen(function*() {
    const roles = yield* WorkspaceRoles
    const audit = yield* AuditLog

    const roleOf = (userId: UserId) => roles.roleOf(userId).pipe(Effect.catchAll(guards.readFailed))

    /** Audits a refusal of `action` to `actorId`. */
    const denied = (action: string, actorId: UserId, error: Refusal, ip?: string) =>
      audit.record({
        actor: actorId,
        action: `channel.${action}.denied`,
        target: channelId,
        ip,
        details: { error: error._tag, ...(error._tag === "Forbidden" ? { reason: error.message } : {}) }
      })

    /** Audits a change `actorId` made (`channel.<action>`). */
    const changed = (action: string, actorId: UserId, details: Record<string, unknown>, ip?: string) =>
      audit.record({ actor: actorId, action: `channel.${action}`, target: channelId, ip, details })

    /** A policy decision: its value, or its refusal (audited). */
    const decide = <A, E extends Refusal>(action: string, actorId: UserId, decision: Either.Either<A, E>, ip?: string): Effect.Effect<A, E> =>
      Either.isRight(decision)
        ? Effect.succeed(decision.right)
        : Effect.zipRight(denied(action, actorId, decision.left, ip), Effect.fail(decision.left))

    /** Audits the refused items of a Post (non-members): one entry per author and batch. */
    const refusedPosts = (items: ReadonlyArray<PostItem>, outcomes: ReadonlyArray<PostOutcome>) => {
      let refused: Map<UserId, ChannelNotFound | NotAMember> | undefined
      for (let i = 0; i < outcomes.length; i++) {
        const o = outcomes[i]!
        if (o._tag === "Rejected" && o.error._tag !== "InvalidRequest") (refused ??= new Map()).set(items[i]!.authorId, o.error)
      }
      return refused === undefined
        ? Effect.void
        : Effect.forEach(refused, ([authorId, error]) => denied("post", authorId, error), { discard: true })
    }

    return { roleOf, denied, changed, decide, refusedPosts } as const
  })

export type Access = Effect.Effect.Success<ReturnType<typeof makeAccess>>
