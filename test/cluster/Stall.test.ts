/**
 * A stalled owner (SIGSTOP: its process keeps its sockets and its Postgres
 * sessions, as in a long GC pause or a frozen VM) loses its channels: the
 * others end its database sessions once its heartbeat is older than the
 * shard lock expiration plus two heartbeat intervals, take its shards, and when it wakes (SIGCONT) it
 * drops every shard before it writes anything with stale state. Before it has noticed, it can no longer claim
 * the channel back: the new owner's writes are never fenced after the wake.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { devToken, rest, WsClient } from "../fixtures/Clients.ts"
import { ownerOf, poster, query, settledShards, sleep, duplicateSeqLines, logMarks, refusedWriteLines, waitUntil } from "../fixtures/ClusterHelpers.ts"
import { type NodeProcess, startNode } from "../fixtures/NodeProcess.ts"
import { makeTestDatabase, type TestDatabase } from "../fixtures/TestDatabase.ts"

describe("SIGSTOP of a busy channel's owner under local and remote load", () => {
  let db: TestDatabase
  let nodes: Array<NodeProcess> = []

  beforeAll(async () => {
    db = await makeTestDatabase()
    const results = await Promise.allSettled(["p", "q", "r"].map((name) => startNode({ name, databaseUrl: db.url })))
    nodes = results.flatMap((r) => (r.status === "fulfilled" ? [r.value] : []))
    for (const r of results) if (r.status === "rejected") throw r.reason
    await settledShards(nodes)
  }, 120_000)

  afterAll(async () => {
    if (process.env.CLUSTER_LOG_DIR) {
      const { writeFileSync } = await import("node:fs")
      for (const n of nodes) writeFileSync(`${process.env.CLUSTER_LOG_DIR}/${n.name}.log`, n.output())
    }
    try {
      await Promise.all(nodes.map((n) => n.stop()))
    } finally {
      await db?.drop()
    }
  }, 60_000)

  it.each([9_000, 20_000])(
    "stalled %i ms: another node serves the channel within 5 s, the woken owner writes nothing stale, nothing acknowledged is lost",
    async (stallMs) => {
      const token = await devToken(nodes[0]!.url, `s${stallMs}`)
      const channel = await rest(nodes[0]!.url, token).createChannel(`stall-${stallMs}`)
      const owner = await waitUntil("an owner", () => ownerOf(nodes, channel.id))
      const marks = logMarks(nodes)
      const others = nodes.filter((n) => n !== owner)
      const clients = await Promise.all([owner, ...others].map((n) => WsClient.connect(n.wsUrl, token)))
      // One poster on the owner itself (its edge queues posts for the local, stale entity while stalled) and one
      // on each other node. Each retries the same clientMsgId after 1 s without an answer.
      const loads = clients.map((c, i) => poster(c, channel.id, { prefix: `p${i}-`, retryAfterMs: 1000 }))
      await waitUntil("posts acknowledged on every node", () => loads.every((l) => l.acked.size >= 5))

      const stoppedAt = Date.now()
      owner.pause()
      const remote = loads.slice(1)
      const served = await waitUntil(
        "a post sent after the stall acknowledged on another node",
        () => remote.map((l) => l.firstAckSentAfter(stoppedAt)).find((t) => t !== undefined),
        20_000,
        10
      )
      const takeoverMs = served - stoppedAt
      const newOwner = await waitUntil("a new owner", () => ownerOf(others, channel.id))
      expect(others).toContain(newOwner)
      const remaining = stallMs - (Date.now() - stoppedAt)
      if (remaining > 0) await sleep(remaining) // the stall itself: the process is stopped for this long
      owner.resume()
      const wokeAt = Date.now()
      const wokeMarks = logMarks(nodes)
      // The woken node drops its shards, rejoins, and its own clients' posts succeed again.
      const localAck = await waitUntil("the woken node's client acknowledged again", () => loads[0]!.firstAckSentAfter(wokeAt), 30_000)
      await settledShards(nodes)
      const counts = loads.map((l) => l.acked.size)
      await waitUntil("more posts on every node after the wake", () => loads.every((l, i) => l.acked.size >= counts[i]! + 3), 30_000)
      await Promise.all(loads.map((l) => l.stop()))
      for (const c of clients) c.close()
      console.log(
        `stall ${stallMs} ms: channel served by ${newOwner.name} ${takeoverMs} ms after SIGSTOP; the woken node's client was acknowledged ${localAck - wokeAt} ms after SIGCONT`
      )

      // No seq assigned twice: every acknowledged (clientMsgId, seq) is stored as acknowledged, seqs are 1..n.
      const rows = await query<{ seq: string; client_msg_id: string }>(
        db.url,
        "SELECT seq, client_msg_id FROM plexi_messages WHERE channel_id = $1 ORDER BY seq",
        [channel.id]
      )
      const stored = new Map(rows.map((r) => [r.client_msg_id, Number(r.seq)]))
      expect(rows.map((r) => Number(r.seq))).toEqual(Array.from({ length: rows.length }, (_, i) => i + 1))
      for (const load of loads) {
        expect(load.conflicts).toEqual([])
        for (const [clientMsgId, seq] of load.acked) expect(stored.get(clientMsgId)).toBe(seq)
      }
      // The woken node's stale writes, if it made any before it noticed, must have been refused by the channel's
      // fencing epoch, never by the primary key (which would mean it raced the new owner for a seq).
      const fenced = refusedWriteLines([owner], marks).filter((l) => /fenced/i.test(l))
      console.log(`stall ${stallMs} ms: ${fenced.length} fenced-write log lines on the woken node`)
      expect(duplicateSeqLines(nodes, marks)).toEqual([])
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
