/**
 * The taps of one Channel feed: followers on this node's own edge, handed
 * each chunk synchronously as it is published, in commit order (see
 * `ChannelFeed.ts`).
 */
import { Effect } from "effect"
import type { FeedChunk } from "../../../domain/Channel.ts"
import type { FeedSink } from "../../messaging/LocalChannels.ts"
import type { Live } from "./ChannelState.ts"
import { afterHead, backlogPage, type Between, header } from "./FeedChunks.ts"

/** A tap: its sink, and the live chunks held back while its backlog is read (undefined once caught up). */
interface Tap {
  readonly sink: FeedSink
  /** The head when the tap was opened: the backlog carries everything up to it. */
  readonly head: number
  pending: Array<FeedChunk> | undefined
}

export const makeTaps = () => {
  const taps = new Set<Tap>()

  /**
   * Hands a chunk to a tap; false when its sink threw, which ends the tap
   * rather than breaking the entity's publish (the follower reopens), or
   * when the tap was ended meanwhile.
   */
  const feedTap = (tap: Tap, chunk: FeedChunk) => {
    if (!taps.has(tap)) return false
    try {
      tap.sink.push(chunk)
      return true
    } catch {
      taps.delete(tap)
      tap.sink.end()
      return false
    }
  }

  /** Hands a published chunk to every tap (held back for those still reading their backlog). */
  const publish = (chunk: FeedChunk) => {
    for (const tap of taps) {
      if (tap.pending !== undefined) tap.pending.push(chunk)
      else feedTap(tap, afterHead(chunk, tap.head))
    }
  }

  /**
   * A tap for the lifetime of the calling scope: the header and the backlog
   * after `afterSeq` (up to the head as it stands now) go to `sink` first,
   * while live chunks are held back; then those, and every later chunk as it
   * is published. The tap exists before the head is read, so everything
   * committed after it is either in the backlog or published to the tap.
   */
  const open = <E, R>(s: Live, afterSeq: number | undefined, between: Between<E, R>, sink: FeedSink) =>
    Effect.gen(function*() {
      const head = s.head
      const tap: Tap = { sink, head, pending: [] }
      yield* Effect.acquireRelease(Effect.sync(() => taps.add(tap)), () => Effect.sync(() => taps.delete(tap)))
      if (!feedTap(tap, header(s, afterSeq, head))) return
      let after = afterSeq
      while (after !== undefined && after < head) {
        const page = yield* backlogPage(s, after, head, between)
        if (!feedTap(tap, page)) return
        after = page.head
      }
      const held = tap.pending!
      tap.pending = undefined
      for (const chunk of held) if (!feedTap(tap, afterHead(chunk, head))) return
    })

  /** The entity stopped (its shard moved, the node stops, passivation): every tap hears of it and reopens. */
  const endAll = () => {
    const ended = Array.from(taps)
    taps.clear()
    for (const tap of ended) tap.sink.end()
  }

  return { publish, open, endAll, size: () => taps.size } as const
}
