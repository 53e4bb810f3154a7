/**
 * A stalled owner (SIGSTOP: its process keeps its sockets and its Postgres
 * sessions, as in a long GC pause or a frozen VM) loses its channels: the
 * others end its database sessions once its heartbeat is older than the
 * shard lock expiration plus two heartbeat intervals, take its shards, and when it wakes (SIGCONT) it
 * drops every shard before it writes anything with stale state. Before it has noticed, it can no longer claim
 * the channel back: the new owner's writes are never fenced after the wake.
 */
import { describe, expect, it } from "vitest"
import {
  ackMismatches,
  duplicateSeqLines,
  eachAcked,
  eachAckedMore,
  firstAckSentAfter,
  logMarks,
  oneTo,
  ownedChannel,
  ownerOf,
  postersOn,
  refusedWriteLines,
  settledShards,
  sleep,
  storedMessages,
  waitUntil
} from "../fixtures/ClusterHelpers.ts"
import { clusterForSuite } from "../fixtures/ClusterSuite.ts"

describe("SIGSTOP of a busy channel's owner under local and remote load", () => {
  const cluster = clusterForSuite({ prefix: "s" })

  it.each([9_000, 20_000])(
    "stalled %i ms: another node serves the channel within 5 s, the woken owner writes nothing stale, nothing acknowledged is lost",
    async (stallMs) => {
      const { channel, others, owner, token } = await ownedChannel(cluster.nodes, `stall${stallMs}`, `stall-${stallMs}`)
      const marks = logMarks(cluster.nodes)
      // One poster on the owner itself (its edge queues posts for the local, stale entity while stalled) and one
      // on each other node. Each retries the same clientMsgId after 1 s without an answer.
      const { clients, loads } = await postersOn([owner, ...others], token, channel.id, (i) => ({ prefix: `p${i}-`, retryAfterMs: 1000 }))
      await eachAcked("posts acknowledged on every node", loads, 5)

      const stoppedAt = Date.now()
      owner.pause()
      const served = await firstAckSentAfter("a post sent after the stall acknowledged on another node", loads.slice(1), stoppedAt)
      const takeoverMs = served - stoppedAt
      const newOwner = await waitUntil("a new owner", () => ownerOf(others, channel.id))
      expect(others).toContain(newOwner)
      const remaining = stallMs - (Date.now() - stoppedAt)
      if (remaining > 0) await sleep(remaining) // the stall itself: the process is stopped for this long
      owner.resume()
      const wokeAt = Date.now()
      const wokeMarks = logMarks(cluster.nodes)
      // The woken node drops its shards, rejoins, and its own clients' posts succeed again.
      const localAck = await waitUntil("the woken node's client acknowledged again", () => loads[0]!.firstAckSentAfter(wokeAt), 30_000)
      await settledShards(cluster.nodes)
      await eachAckedMore("more posts on every node after the wake", loads, 3, 30_000)
      await Promise.all(loads.map((l) => l.stop()))
      for (const c of clients) c.close()
      console.log(
        `stall ${stallMs} ms: channel served by ${newOwner.name} ${takeoverMs} ms after SIGSTOP; the woken node's client was acknowledged ${localAck - wokeAt} ms after SIGCONT`
      )

      // No seq assigned twice: every acknowledged (clientMsgId, seq) is stored as acknowledged, seqs are 1..n.
      const { seqOf, seqs } = await storedMessages(cluster.url, channel.id)
      expect(seqs).toEqual(oneTo(seqs.length))
      expect(ackMismatches(loads, seqOf)).toEqual([])
      // The woken node's stale writes, if it made any before it noticed, must have been refused by the channel's
      // fencing epoch, never by the primary key (which would mean it raced the new owner for a seq).
      const fenced = refusedWriteLines([owner], marks).filter((l) => /fenced/i.test(l))
      console.log(`stall ${stallMs} ms: ${fenced.length} fenced-write log lines on the woken node`)
      expect(duplicateSeqLines(cluster.nodes, marks)).toEqual([])
      // The woken node cannot claim the channel back before it notices it lost its shards (its claims need the shard's
      // record to name it), so no other node's write is fenced after the wake: no ChannelUnavailable alternating
      // between the woken node and the new owner.
      const refusedClaims = owner.output().slice(wokeMarks.get(owner)).split("\n").filter((l) => /channel claim refused/.test(l))
      console.log(`stall ${stallMs} ms: ${refusedClaims.length} refused claims on the woken node`)
      expect(refusedWriteLines(others, wokeMarks).filter((l) => /fenced/i.test(l))).toEqual([])
      expect(owner.output()).toMatch(/Shard lock session failed|Shard lock storage is unhealthy/)
      expect(takeoverMs).toBeLessThanOrEqual(5000)
    },
    120_000
  )
})
