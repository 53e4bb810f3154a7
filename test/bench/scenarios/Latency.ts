/**
 * `latency`: one poster at BENCH_RATE (2,000) msg/s on one channel, one
 * subscriber (another user); 1 s of warm-up, then 5 s measured; post →
 * delivery p50 / p99. On one node, and across two nodes (poster on one,
 * subscriber on the other) with a channel owned by the poster's node, named
 * in the row. Baseline: bare uWS pub/sub at the same rate. (The thin-traffic
 * shape, 1,000 channels, is measured by `thin` / `thin3`.)
 */
import type { NodeProcess } from "../../fixtures/NodeProcess.ts"
import { closeAll, createChannels, open, subscribe, tokensOf } from "../lib/BenchClients.ts"
import { relaxedEnv } from "../lib/BenchEnv.ts"
import { ownerOf, type RawServer, withDatabase, withNodes, withRaw } from "../lib/Lifecycle.ts"
import { latencySampler, paced } from "../lib/Paced.ts"
import { report } from "../lib/Results.ts"
import { alternate, fmt3, median } from "../lib/Rounds.ts"

const RATE = Number(process.env.BENCH_RATE ?? 2000)
const SECONDS = 5

/** Warm-up second, then the measured seconds; returns the latency and the messages sent while measuring. */
const measure = async (sampler: ReturnType<typeof latencySampler>, send: (i: number, sentAt: number) => void) => {
  await paced(RATE, 1, 0, send)
  sampler.start()
  const sent = await paced(RATE, SECONDS, RATE, send)
  return sampler.finish(sent)
}

const rawRound = async (raw: RawServer) => {
  const sub = await open(`ws://127.0.0.1:${raw.port}/ws?user=lat-sub&topics=t`)
  const pub = await open(`ws://127.0.0.1:${raw.port}/pub`)
  try {
    return await measure(latencySampler([sub]), (_i, t) => pub.send(`{"type":"message","message":{"body":"t${t}"}}`))
  } finally {
    closeAll([sub, pub])
  }
}

/** Poster on `pubNode`, subscriber on `subNode`; with `owner`, a channel whose shard that node owns. */
const nodeRound = async (pubNode: NodeProcess, subNode: NodeProcess, tokens: ReadonlyArray<string>, round: number, owner?: ReadonlyArray<NodeProcess>) => {
  let channel: string | undefined
  for (let tries = 0; channel === undefined; tries++) {
    const [id] = await createChannels(pubNode.url, tokens[0]!, 1, `latency-${round}-${tries}`)
    if (owner === undefined || (await ownerOf(owner, id!)) === pubNode) channel = id
    else if (tries > 50) throw new Error("no channel owned by the poster's node in 50 tries")
  }
  const sub = await open(`${subNode.wsUrl}?token=${tokens[1]}`)
  const pub = await open(`${pubNode.wsUrl}?token=${tokens[0]}`)
  try {
    await subscribe(sub, [channel])
    pub.on("message", () => {})
    const result = await measure(latencySampler([sub]), (i, t) =>
      pub.send(`{"type":"post","channelId":"${channel}","clientMsgId":"l${i}","body":"t${t}"}`))
    const ownerName = owner === undefined ? pubNode.name : (await ownerOf(owner, channel))?.name ?? "none"
    return { ...result, owner: ownerName }
  } finally {
    closeAll([sub, pub])
  }
}

type Latency = { p50: number; p99: number; n: number; expected: number }
const fmt = (l: ReadonlyArray<Latency>) => `p50 ${fmt3(l.map((x) => x.p50), 1)} ms, p99 ${fmt3(l.map((x) => x.p99), 1)} ms`
const lost = (l: ReadonlyArray<Latency>) => l.reduce((n, x) => n + x.expected - x.n, 0)

export const latency = () =>
  withRaw((raw) =>
    withDatabase((db1) =>
      withDatabase((db2) =>
        withNodes([
          { name: "lat-one", databaseUrl: db1.url, env: relaxedEnv },
          { name: "lat-a", databaseUrl: db2.url, env: relaxedEnv },
          { name: "lat-b", databaseUrl: db2.url, env: relaxedEnv }
        ], async ([one, a, b]) => {
          const oneTokens = await tokensOf(one!.url, "lat-", 2)
          const pairTokens = await tokensOf(a!.url, "lat-", 2)
          const { plexi, baseline } = await alternate(
            async (round) => ({
              one: await nodeRound(one!, one!, oneTokens, round),
              cross: await nodeRound(a!, b!, pairTokens, round, [a!, b!])
            }),
            () => rawRound(raw)
          )
          const rawP99 = median(baseline.map((l) => l.p99))
          const rows = [
            { label: "one node", runs: plexi.map((p) => p.one), target: 25 },
            { label: `across two nodes, poster on lat-a, subscriber on lat-b, channel owned by ${[...new Set(plexi.map((p) => p.cross.owner))].join("/")}`, runs: plexi.map((p) => p.cross), target: 40 }
          ]
          for (const row of rows) {
            const p99 = median(row.runs.map((l) => l.p99))
            report({
              scenario: `latency at ${RATE} msg/s, ${row.label} (post → delivery)${lost(row.runs) > 0 ? `, ${lost(row.runs)} not delivered` : ""}`,
              plexi: fmt(row.runs),
              baseline: `${fmt(baseline)} (bare uWS)`,
              ratio: `p99 ${(p99 / rawP99).toFixed(1)}×`,
              cpu: "–",
              target: `p99 ≤ ${row.target} ms`,
              met: lost(row.runs) === 0 && p99 <= row.target
            })
          }
        }))))
