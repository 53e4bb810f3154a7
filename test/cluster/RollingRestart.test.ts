/**
 * A rolling restart of a 3-node cluster under steady posting: every node of
 * the cluster is stopped (SIGTERM) and replaced by a fresh one, one at a
 * time, while a poster on every node posts to each of two busy channels (one
 * post at a time, retried with the same clientMsgId after an error, after 2 s
 * without an answer, or on another node when its socket closes) and a
 * subscriber on every node follows each channel (resubscribing elsewhere with
 * `lastSeq` when its socket closes).
 *
 * Every acknowledged message is stored once as acknowledged, and every
 * resuming subscriber receives every stored message exactly once, in order.
 * The test prints the longest pause any poster saw per stop and per shard
 * take-back (the replacement joining and taking its share), separately for
 * the posters that stayed connected and for those whose node stopped (they
 * reconnect), and how long each joining node took to hold its share.
 */
import { describe, expect, it } from "vitest"
import { signedIn } from "../fixtures/AuthClient.ts"
import { rest } from "../fixtures/Clients.ts"
import { settledShards, storedMessages, waitUntil } from "../fixtures/ClusterHelpers.ts"
import { clusterForSuite } from "../fixtures/ClusterSuite.ts"
import type { NodeProcess } from "../fixtures/NodeProcess.ts"
import { longestPauseIn, type RollingPoster, rollingPoster, resumingSubscriber } from "../fixtures/RollingClients.ts"

/** The bound asserted on every pause; the target is 1 s (the figures are printed). */
const PAUSE_BOUND_MS = Number(process.env.ROLLING_PAUSE_BOUND_MS ?? 4000)

interface Posting {
  readonly poster: RollingPoster
}

const ackedMore = (what: string, posting: ReadonlyArray<Posting>, more: number) => {
  const counts = posting.map((p) => p.poster.acks.length)
  return waitUntil(what, () => posting.every((p, i) => p.poster.acks.length >= counts[i]! + more), 30_000)
}

describe("rolling restart of a 3-node cluster under steady posting", () => {
  const cluster = clusterForSuite({ prefix: "rr", spares: true })

  it("loses no acknowledged message, delivers each exactly once to every resuming subscriber, and reports the pauses", async () => {
    let live: ReadonlyArray<NodeProcess> = cluster.nodes
    const urls = () => live.map((n) => n.wsUrl)
    const { token } = await signedIn(cluster.nodes[0]!.url, "roller")
    const channels = [await rest(cluster.nodes[0]!.url, token).createChannel("rolling-a"), await rest(cluster.nodes[0]!.url, token).createChannel("rolling-b")]
    const subscribers = channels.flatMap((c) => cluster.nodes.map((_, i) => resumingSubscriber(urls, token, c.id, i)))
    const posting: Array<Posting> = channels.flatMap((c, ci) =>
      cluster.nodes.map((_, i) => ({ poster: rollingPoster(urls, token, c.id, `c${ci}n${i}-`, i) })))
    await ackedMore("posts on every node", posting, 20)

    const report: Array<string> = []
    const pauses: Array<number> = []
    for (const target of cluster.nodes.slice()) {
      live = cluster.nodes.filter((n) => n !== target)
      // The posters on the stopping node: they are closed with 1001 and reconnect elsewhere.
      const moved = posting.filter((p) => p.poster.url().startsWith(target.wsUrl.replace(/\/ws$/, "")))
      const stayed = posting.filter((p) => !moved.includes(p))
      const stopAt = Date.now()
      await target.stop()
      const exitedMs = Date.now() - stopAt
      cluster.remove(target)
      await settledShards(cluster.nodes)
      await ackedMore(`posts after the stop of ${target.name}`, posting, 10)
      const joinAt = Date.now()
      await cluster.grow()
      const joinMs = Date.now() - joinAt
      live = cluster.nodes
      await ackedMore(`posts after ${cluster.nodes[cluster.nodes.length - 1]!.name} joined`, posting, 20)
      const doneAt = Date.now()

      const worst = (ps: ReadonlyArray<Posting>, from: number, to: number) => Math.max(0, ...ps.map((p) => longestPauseIn(p.poster.acks, from, to)))
      const figures = {
        stopConnected: worst(stayed, stopAt, joinAt),
        stopReconnecting: worst(moved, stopAt, joinAt),
        takeBack: worst(posting, joinAt, doneAt)
      }
      pauses.push(figures.stopConnected, figures.stopReconnecting, figures.takeBack)
      report.push(
        `${target.name}: exited ${exitedMs} ms after SIGTERM; longest pause on stop ${figures.stopConnected} ms (connected posters), ` +
          `${figures.stopReconnecting} ms (its own posters, reconnecting); replacement holds its share ${joinMs} ms after start, ` +
          `longest pause on take-back ${figures.takeBack} ms; close codes seen by its posters: ${[...new Set(moved.flatMap((p) => p.poster.closes))].join(",")}; ` +
          `posts left unanswered ${posting.flatMap((p) => p.poster.unanswered).filter((t) => t >= stopAt && t <= doneAt).length}, ` +
          `errors: ${[...new Set(posting.flatMap((p) => p.poster.errors).filter((e) => e.at >= stopAt && e.at <= doneAt).map((e) => e.code))].join("; ") || "none"}`
      )
    }
    await Promise.all(posting.map((p) => p.poster.stop()))
    console.log(`rolling restart:\n  ${report.join("\n  ")}`)

    for (const channel of channels) {
      const { seqOf, seqs } = await storedMessages(cluster.url, channel.id)
      expect(seqs).toEqual(seqs.map((_, i) => i + 1))
      const mine = posting.filter((p) => p.poster.acks[0] !== undefined && seqOf.get(p.poster.acks[0].clientMsgId) !== undefined)
      for (const { poster } of mine) {
        for (const ack of poster.acks) expect(`${ack.clientMsgId}=${seqOf.get(ack.clientMsgId)}`).toBe(`${ack.clientMsgId}=${ack.seq}`)
      }
      const last = seqs[seqs.length - 1]!
      const followers = subscribers.slice(channels.indexOf(channel) * 3, channels.indexOf(channel) * 3 + 3)
      await waitUntil(`every subscriber of ${channel.id} at seq ${last}`, () => followers.every((s) => s.seqs.includes(last)), 30_000)
      for (const s of followers) expect(s.seqs).toEqual(seqs)
    }
    for (const s of subscribers) s.stop()
    // Every socket closed by a stopping node was closed gracefully (1001), none dropped (1006).
    expect([...new Set(posting.flatMap((p) => p.poster.closes))]).toEqual([1001])
    expect(Math.max(...pauses)).toBeLessThanOrEqual(PAUSE_BOUND_MS)
  }, 300_000)
})
