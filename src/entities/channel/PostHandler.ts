/**
 * A Post, end to end: the pure step (`PostStep`) around the effects it needs
 * (a Postgres lookup of older idempotency keys, the commit, the feed, reading
 * the originals of retries).
 *
 * One member's bad post must not fail everyone's: when Postgres refuses the
 * batch's rows for their values (`isRowRefused`: nothing was committed), the
 * items are posted again one at a time, and each refused one is `Rejected`
 * with `InvalidRequest` while the others commit, gap-free.
 */
import type { SqlError } from "@effect/sql/SqlError"
import { Clock, Effect } from "effect"
import type { Message, PostItem, PostOutcome, TraceContext } from "../../../domain/Channel.ts"
import { type ChannelNotFound, type ChannelUnavailable, InvalidRequest } from "../../../domain/Errors.ts"
import type { ChannelId } from "../../../domain/Ids.ts"
import type { MessageStore } from "../../messaging/MessageStore.ts"
import { type Live, recordCommit, type StateLimits } from "./ChannelState.ts"
import { classify, plan, type Planned } from "./PostStep.ts"
import { traced, withTraceContext } from "../../observability/Tracing.ts"

export interface PostDeps {
  readonly channelId: ChannelId
  readonly store: MessageStore
  readonly limits: StateLimits
  readonly liveSerial: Effect.Effect<Live, ChannelNotFound | ChannelUnavailable>
  readonly readFailed: (error: SqlError) => Effect.Effect<never, ChannelUnavailable>
  readonly between: (s: Live, afterSeq: number, upTo: number, limit: number) => Effect.Effect<ReadonlyArray<Message>, ChannelUnavailable>
  /**
   * Writes `rows` and runs `apply` as one uninterruptible step: true when
   * committed, false when Postgres refused the rows for their values (nothing
   * committed, state kept); any other failure drops the state.
   */
  readonly commit: (s: Live, rows: ReadonlyArray<Message>, apply: () => Effect.Effect<void>) => Effect.Effect<boolean, ChannelUnavailable>
  /** Publishes to the feed; `trace` when the post is traced, so the edges continue its trace. */
  readonly published: (head: number, messages: ReadonlyArray<Message>, trace?: TraceContext) => Effect.Effect<void>
}

/** The answer to an item whose values the store refused; one for every entity (an error captures a stack when built). */
const refusedOutcome: PostOutcome = {
  _tag: "Rejected",
  error: new InvalidRequest({ message: "the store refused this message's values (body or clientMsgId)" })
}

export const makePost = (deps: PostDeps) => {
  const { channelId, store } = deps

  /** The committed message with `seq` (a retry's original). */
  const messageAt = (s: Live, seq: number) =>
    Effect.map(deps.between(s, seq - 1, seq, 1), (rows) => rows[0]!)

  /** The final outcomes: duplicates resolved to their original messages. */
  const resolve = (s: Live, outcomes: ReadonlyArray<Planned>, rows: ReadonlyArray<Message>) =>
    Effect.forEach(outcomes, (o): Effect.Effect<PostOutcome, ChannelUnavailable> => {
      if (o._tag !== "DuplicateOf") return Effect.succeed(o)
      const first = rows[0]
      if (first !== undefined && o.seq >= first.seq) {
        return Effect.succeed({ _tag: "Accepted", message: rows[o.seq - first.seq]!, duplicate: true })
      }
      return Effect.map(messageAt(s, o.seq), (message) => ({ _tag: "Accepted", message, duplicate: true }))
    })

  /** Plans `items`, commits their rows; `refused` when the store refused them (nothing was written). */
  const attempt = (s: Live, items: ReadonlyArray<PostItem>) =>
    Effect.gen(function*() {
      const classified = classify(s, channelId, items)
      const found = classified.lookup
        ? yield* store.findByClientIds(channelId, classified.unknown.map((i) => items[i]!)).pipe(
          Effect.catchAll(deps.readFailed)
        )
        : []
      const planned = plan(s, channelId, items, classified, found, yield* Clock.currentTimeMillis)
      if (planned.rows.length === 0) return { ...planned, refused: false }
      const committed = yield* deps.commit(s, planned.rows, () =>
        Effect.suspend(() => {
          recordCommit(s, planned.rows, deps.limits)
          return traced("plexichat.fanout")(withTraceContext((trace) => deps.published(s.head, planned.rows, trace)))
        })).pipe(traced("plexichat.commit", () => ({ "plexichat.rows": planned.rows.length })))
      return { ...planned, refused: !committed }
    })

  /** Each item on its own, in order: a refused one is rejected, the others commit. */
  const oneByOne = (s: Live, items: ReadonlyArray<PostItem>) =>
    Effect.forEach(items, (item) =>
      Effect.flatMap(attempt(s, [item]), (one): Effect.Effect<PostOutcome, ChannelUnavailable> =>
        one.refused
          ? Effect.succeed(refusedOutcome)
          : Effect.map(resolve(s, one.outcomes, one.rows), (outcomes) => outcomes[0]!)))

  return (items: ReadonlyArray<PostItem>): Effect.Effect<ReadonlyArray<PostOutcome>, ChannelNotFound | ChannelUnavailable> =>
    Effect.gen(function*() {
      const s = yield* deps.liveSerial
      const batch = yield* attempt(s, items)
      if (!batch.refused) return yield* resolve(s, batch.outcomes, batch.rows)
      if (items.length === 1) return [refusedOutcome]
      yield* Effect.logWarning("the store refused a row of a Post batch; posting its items one at a time")
      return yield* oneByOne(s, items)
    })
}
