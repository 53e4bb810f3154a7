/**
 * The cluster's transport failures (a full mailbox, a duplicate in-flight
 * request, message storage) mapped to the domain errors a caller can act on.
 */
import type { AlreadyProcessingMessage, MailboxFull, PersistenceError } from "@effect/cluster/ClusterError"
import { Effect, Predicate } from "effect"
import { ChannelUnavailable, ServiceUnavailable } from "../../domain/Errors.ts"
import type { ChannelId } from "../../domain/Ids.ts"

type ClusterFailure = MailboxFull | AlreadyProcessingMessage | PersistenceError

/** For calls to a Channel entity: cluster failures become `ChannelUnavailable`. */
export const channelTransport = (channelId: ChannelId) =>
<A, E, R>(self: Effect.Effect<A, E | ClusterFailure, R>): Effect.Effect<A, E | ChannelUnavailable, R> =>
  Effect.catchIf(
    self,
    (e): e is ClusterFailure => isClusterFailure(e),
    (e) => Effect.fail(new ChannelUnavailable({ channelId, reason: `cluster: ${e._tag}` }))
  )

/** For calls to other entities (users): cluster failures become `ServiceUnavailable`. */
export const serviceTransport = <A, E, R>(
  self: Effect.Effect<A, E | ClusterFailure, R>
): Effect.Effect<A, E | ServiceUnavailable, R> =>
  Effect.catchIf(
    self,
    (e): e is ClusterFailure => isClusterFailure(e),
    (e) => Effect.fail(new ServiceUnavailable({ reason: `cluster: ${e._tag}` }))
  )

const isClusterFailure = (e: unknown) =>
  Predicate.isTagged(e, "MailboxFull") || Predicate.isTagged(e, "AlreadyProcessingMessage") ||
  Predicate.isTagged(e, "PersistenceError")
