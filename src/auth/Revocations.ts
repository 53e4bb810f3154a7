/**
 * The revocations every node enforces: ended sessions (sign-out, ending one
 * or all sessions, a password change or reset, a reused refresh token) and
 * disabled accounts. They are rows of `plexi_revocations`, written in the
 * same statement or transaction as the change; each node polls the table
 * (every `PLEXI_AUTH_REVOCATION_POLL_INTERVAL` on Postgres, and at once after
 * a revocation it made itself) and keeps in memory what is still relevant
 * (RevocationSet.ts), so a token check is a map lookup with no database
 * round trip. A starting node loads the ended sessions whose tokens may still
 * be alive and the disabled accounts. Listeners (the WebSocket gateway) hear
 * what each poll newly ended, to close those sockets.
 */
import { SqlClient } from "@effect/sql"
import { Clock, Context, Duration, Effect, Layer, Schedule } from "effect"
import type { SessionId, UserId } from "../../domain/Ids.ts"
import type { TokenClaims } from "./TokenVerifier.ts"
import { RevocationConfig } from "./RevocationConfig.ts"
import { RevocationCursor } from "./RevocationCursor.ts"
import { type Ended, RevocationSet, type RevokedReason } from "./RevocationSet.ts"
import { readRevocations } from "./RevocationPoll.ts"
import * as RevocationRows from "./store/RevocationRows.ts"

export type { Ended, RevokedReason } from "./RevocationSet.ts"

/** An embedded node is the only one on its store: it polls only to purge, and after its own revocations. */
const EMBEDDED_POLL = Duration.minutes(1)

export interface RevocationsShape {
  /** Why a token of this user and session is refused, or undefined. A map lookup: safe on every request. */
  readonly reasonFor: (userId: UserId, sessionId: SessionId | undefined) => RevokedReason | undefined
  /** Reads new revocations now (after this node made one), so they apply here before its answer. Never fails. */
  readonly refresh: Effect.Effect<void>
  /** Calls `listener` with what each poll newly ended; answers the function that stops it. */
  readonly listen: (listener: (ended: Ended) => void) => () => void
}

export class Revocations extends Context.Tag("plexichat/Revocations")<Revocations, RevocationsShape>() {
  /** `poll`: whether other nodes share the store (Postgres), so the table is read every poll interval. */
  static readonly layer = (options: { readonly poll: boolean }) =>
    Layer.scoped(Revocations, Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      const config = yield* RevocationConfig
      const gapMs = Duration.toMillis(config.gapTimeout)
      const set = new RevocationSet()
      const listeners = new Set<(ended: Ended) => void>()

      const start = yield* Clock.currentTimeMillis
      const position = yield* RevocationRows.startPosition(sql)(start, gapMs)
      set.loadDisabled(yield* RevocationRows.disabledUsers(sql))
      set.apply(yield* RevocationRows.liveSessions(sql)(position, start), start)
      const cursor = new RevocationCursor(position, gapMs)
      const pollOnce = readRevocations({ sql, set, cursor, listeners, startedAt: start })

      // One poll at a time: a refresh waits for the timer's poll, then reads what committed before it.
      const permit = yield* Effect.makeSemaphore(1)
      let failingSince: number | undefined
      const poll = permit.withPermits(1)(pollOnce).pipe(
        Effect.tap(() =>
          Effect.sync(() => {
            failingSince = undefined
          })
        ),
        Effect.catchAllCause((cause) =>
          Effect.flatMap(Clock.currentTimeMillis, (now) => {
            // Logged once per failing stretch, then every 30 s: revocations wait meanwhile.
            if (failingSince !== undefined && now - failingSince < 30_000) return Effect.void
            failingSince = now
            return Effect.logWarning("reading revocations failed; revoked tokens may be accepted until it recovers", cause)
          })
        )
      )

      const every = options.poll ? config.pollInterval : EMBEDDED_POLL
      yield* Effect.forkScoped(Effect.repeat(poll, Schedule.spaced(every)))

      return {
        reasonFor: (userId, sessionId) => set.reasonFor(userId, sessionId),
        refresh: poll,
        listen: (listener) => {
          listeners.add(listener)
          return () => listeners.delete(listener)
        }
      } satisfies RevocationsShape
    }))
}

/** What a refused token's `Unauthorized` says, per reason. */
export const revokedMessage: Record<RevokedReason, string> = {
  session_revoked: "session revoked: sign in again",
  account_disabled: "account disabled"
}

/** The `TokenVerifier` check of these revocations. */
export const revocationCheck = (revocations: RevocationsShape) => (claims: TokenClaims): string | undefined => {
  const reason = revocations.reasonFor(claims.userId, claims.sessionId)
  return reason === undefined ? undefined : revokedMessage[reason]
}
