/**
 * SIGTERM of a channel's owner while a client on the owner and clients on the
 * other nodes keep posting, many times over: a graceful stop must never
 * assign a committed seq again (issue 5 saw the stopping owner retry seq 619
 * after it had committed it, refused only by the primary key), every
 * acknowledged post is stored as acknowledged and delivered once to a
 * follower on a surviving node, and the stopping node's clients get 1001.
 *
 * GRACEFUL_RUNS (default 8) sets the number of stops. Before the entity fix 9 of
 * 16 stops reused a seq, so 8 stops miss it with a chance of about 0.1%. With
 * the fix taken out again (a write and its state change interruptible once
 * more), this test at its 1 s termination timeout failed 6 of 8 stops, and 4
 * of 8 at the default 3 s.
 */
import { describe, expect, it } from "vitest"
import { WsClient } from "../fixtures/Clients.ts"
import {
  ackMismatches,
  duplicateSeqLines,
  eachAcked,
  eachAckedMore,
  firstAckSentAfter,
  logMarks,
  ownedChannel,
  postersOn,
  refusedWriteLines,
  storedMessages
} from "../fixtures/ClusterHelpers.ts"
import { clusterForSuite } from "../fixtures/ClusterSuite.ts"

const RUNS = Number(process.env.GRACEFUL_RUNS ?? 8)

describe(`SIGTERM of a busy channel's owner under local and remote load, ${RUNS} times`, () => {
  // The owner's follower streams (from the other edges) end when its shards are released (ShardRelease.ts); the
  // termination timeout, 1 s here instead of the default 3 s, now only bounds other requests still running (it once
  // bounded every stop: ~1.4 s here, ~3.4 s at the default). The stop runs the same steps (edge closed with 1001,
  // entities stopped, streams cut, in-flight work interrupted, shards released); test/cluster/Cluster.test.ts
  // measures a hand-over at the default.
  const cluster = clusterForSuite({ prefix: "g", spares: true, node: { env: { PLEXI_ENTITY_TERMINATION_TIMEOUT: "1 second" } } })

  it("never writes a committed seq again, loses no ack, delivers every ack once, and closes local clients with 1001", async () => {
    const failures: Array<string> = []
    for (let run = 1; run <= RUNS; run++) {
      const { channel, others, owner, token } = await ownedChannel(cluster.nodes, `graceful${run}`, `graceful-${run}`)
      const marks = logMarks(cluster.nodes)
      const follower = await WsClient.connect(others[0]!.wsUrl, token)
      await follower.request({ type: "subscribe", channelId: channel.id, lastSeq: 0 })
      // Several posts in flight per client, so that the edges batch them and the stopping owner has commits in flight.
      const { clients, loads } = await postersOn([owner, ...others], token, channel.id, (i) => ({
        prefix: `r${run}n${i}-`,
        retryAfterMs: 2000,
        inFlight: i === 0 ? 8 : 4
      }))
      await eachAcked("posts acknowledged on every node", loads, 5)

      const stoppedAt = Date.now()
      const stopping = owner.stop()
      await firstAckSentAfter("a post sent after the SIGTERM acknowledged on another node", loads.slice(1), stoppedAt)
      await stopping
      cluster.remove(owner)
      await eachAckedMore("more remote posts after the stop", loads.slice(1), 5)
      await Promise.all(loads.map((l) => l.stop()))

      const { seqOf, seqs } = await storedMessages(cluster.url, channel.id)
      const lines = [...duplicateSeqLines([owner, ...others], marks), ...refusedWriteLines([owner, ...others], marks)]
      const problems: Array<string> = []
      if (clients[0]!.closeCode !== 1001) problems.push(`the stopping node's client closed with ${clients[0]!.closeCode}`)
      if (lines.length > 0) problems.push(...lines)
      if (seqs.some((s, i) => s !== i + 1)) problems.push(`stored seqs are not 1..n (${seqs.length} rows)`)
      problems.push(...ackMismatches(loads, seqOf))
      const last = seqs[seqs.length - 1] ?? 0
      await follower.waitFor((f) => f.type === "message" && f.message.seq === last, 15_000).catch(() => undefined)
      const delivered = follower.messages(channel.id).map((m) => m.seq)
      if (delivered.join(",") !== seqs.join(",")) problems.push(`follower got ${delivered.length} messages, ${seqs.length} stored`)
      const refused = loads.flatMap((l) => l.errors)
      console.log(`graceful stop ${run}: ${problems.length === 0 ? "ok" : problems.join("; ")}; error frames: ${refused.join(",") || "none"}`)
      if (problems.length > 0) failures.push(`run ${run}: ${problems.join("; ")}`)
      for (const c of [follower, ...clients]) c.close()

      // Back to three nodes for the next run (a prepared spare joins).
      if (run < RUNS) await cluster.grow()
    }
    console.log(`graceful stop: ${failures.length} of ${RUNS} runs failed`)
    expect(failures).toEqual([])
  }, 60_000 + RUNS * 45_000)
})
