/**
 * kill -9 of a channel's owner, repeated: how long until the channel is served
 * again, measured from the kill to the first acknowledged post made after it,
 * with nothing acknowledged lost and no seq assigned twice.
 *
 * FAILOVER_RUNS (default 10) sets the number of kills; the target is
 * p50 ≤ 3 s and max ≤ 5 s.
 */
import { describe, expect, it } from "vitest"
import { WsClient } from "../fixtures/Clients.ts"
import {
  ackedSeqs,
  duplicateSeqLines,
  eachAcked,
  eachAckedMore,
  firstAckSentAfter,
  oneTo,
  ownedChannel,
  poster,
  storedSeqs
} from "../fixtures/ClusterHelpers.ts"
import { clusterForSuite } from "../fixtures/ClusterSuite.ts"

const RUNS = Number(process.env.FAILOVER_RUNS ?? 10)

const percentile = (sorted: ReadonlyArray<number>, p: number) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!

describe(`kill -9 of a busy channel's owner, ${RUNS} times`, () => {
  const cluster = clusterForSuite({ prefix: "f", spares: true })

  it(`serves the channel again within p50 ≤ 3 s and max ≤ 5 s, losing nothing acknowledged`, async () => {
    const timings: Array<number> = []
    for (let run = 1; run <= RUNS; run++) {
      const { channel, others, owner, token } = await ownedChannel(cluster.nodes, `failover${run}`, `failover-${run}`)
      const client = await WsClient.connect(others[0]!.wsUrl, token)
      const load = poster(client, channel.id, { retryAfterMs: 2000 })
      await eachAcked("posts acknowledged before the kill", [load], 10)

      const killedAt = Date.now()
      await owner.kill9()
      cluster.remove(owner)
      const firstAck = await firstAckSentAfter("a post sent after the kill acknowledged", [load], killedAt)
      timings.push(firstAck - killedAt)
      await eachAckedMore("more posts after the failover", [load], 10)
      await load.stop()
      client.close()

      const acked = ackedSeqs(load)
      expect(load.conflicts).toEqual([])
      expect(acked).toEqual(oneTo(acked.length))
      // Everything acknowledged is stored, once; nothing beyond it (the poster waits for each ack before the next post).
      expect(await storedSeqs(cluster.url, channel.id)).toEqual(acked)

      // Back to three nodes for the next run (a prepared spare joins).
      if (run < RUNS) await cluster.grow()
    }
    const sorted = [...timings].sort((a, b) => a - b)
    const p50 = percentile(sorted, 50)
    const max = sorted[sorted.length - 1]!
    console.log(`kill -9 failover over ${RUNS} runs: p50 ${p50} ms, max ${max} ms (all: ${timings.join(", ")} ms)`)
    expect(duplicateSeqLines(cluster.all)).toEqual([])
    expect(p50).toBeLessThanOrEqual(3000)
    expect(max).toBeLessThanOrEqual(5000)
  }, 60_000 + RUNS * 45_000)
})
