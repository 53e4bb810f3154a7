/**
 * `connections`: resident memory per WebSocket, 10,000 of them, each of a
 * distinct user, authenticated and subscribed (to one of 100 channels /
 * topics), on both sides. Each round starts a fresh server process (a
 * PlexiChat node on the scenario's database, or the bare uWS server), gives
 * both the same warm-up (200 such sockets opened and closed), then reads RSS
 * after a forced full GC (`--expose-gc`, gc-hook.mjs) before and after opening
 * the 10,000. It also prints the live JS heap per socket: RSS keeps the heap
 * pages the set-up's garbage grew, which a GC frees but V8 does not give back.
 */
import type { ChildProcess } from "node:child_process"
import { closeAll, createChannels, inPool, openAll, sleep, subscribe, tokensOf } from "../lib/BenchClients.ts"
import { relaxedEnv } from "../lib/BenchEnv.ts"
import { memoryAfterGc, withDatabase, withNodes, withRaw } from "../lib/Lifecycle.ts"
import { report } from "../lib/Results.ts"
import { alternate, fmt3, median } from "../lib/Rounds.ts"

const N = 10_000
const WARM = 200
const CHANNELS = 100

interface Side {
  readonly server: { readonly child: ChildProcess; readonly output: () => string }
  /** Opens the sockets `from…from+n-1`, each authenticated as its own user and subscribed. */
  readonly connect: (from: number, n: number) => Promise<ReadonlyArray<import("ws").WebSocket>>
}

const perSocket = async (side: Side) => {
  closeAll(await side.connect(N, WARM))
  await sleep(1000)
  const before = await memoryAfterGc(side.server)
  const sockets = await side.connect(0, N)
  await sleep(2000)
  const after = await memoryAfterGc(side.server)
  closeAll(sockets)
  return { rss: (after.rss - before.rss) / N, heap: (after.heap - before.heap) / N }
}

export const connections = () =>
  withDatabase(async (db) => {
    // Users (N measured + WARM warm-up) and channels, made once on a set-up node; each round's node reuses them.
    const setup = await withNodes([{ name: "conn-setup", databaseUrl: db.url, env: relaxedEnv }], async ([node]) => {
      const tokens = await tokensOf(node!.url, "conn-", N + WARM)
      const channels = await createChannels(node!.url, tokens[0]!, CHANNELS, "conn")
      return { tokens, channels }
    })
    /** PlexiChat's live JS heap per socket in each round (bytes). */
    const heaps: Array<number> = []
    const { plexi, baseline } = await alternate(
      (round) =>
        withNodes([{ name: `conn-${round}`, databaseUrl: db.url, env: relaxedEnv }], ([node]) =>
          perSocket({
            server: node!,
            connect: async (from, n) => {
              const sockets = await openAll(setup.tokens.slice(from, from + n).map((t) => `${node!.wsUrl}?token=${t}`))
              await inPool(sockets, 200, (ws, i) => subscribe(ws, [setup.channels[(from + i) % CHANNELS]!]))
              return sockets
            }
          }).then((m) => {
            heaps.push(m.heap)
            return m.rss
          })),
      () =>
        withRaw((raw) =>
          perSocket({
            server: raw,
            connect: (from, n) =>
              openAll(Array.from({ length: n }, (_, i) => `ws://127.0.0.1:${raw.port}/ws?user=conn-${from + i}&topics=c${(from + i) % CHANNELS}`))
          }).then((m) => m.rss))
    )
    const ratio = median(plexi) / median(baseline)
    report({
      scenario: `memory per authenticated, subscribed WebSocket, ${N.toLocaleString("en-US")} distinct users (bytes, RSS after GC)`,
      plexi: fmt3(plexi),
      baseline: `${fmt3(baseline)} (bare uWS)`,
      ratio: `${ratio.toFixed(2)}×`,
      cpu: `JS heap ${fmt3(heaps)} B per socket (live, after GC)`,
      // Issue 6's target: at most 1.5× what bare uWS holds for the same socket.
      target: "≤ 1.5× bare uWS",
      met: ratio <= 1.5
    })
  })
