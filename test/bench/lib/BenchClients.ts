/**
 * The load generator's clients: raw `ws` sockets (no per-frame bookkeeping, so
 * that the bench process stays light), distinct users signed up over REST,
 * channels over REST.
 */
import type WebSocket from "ws"
import { open, subscribeAll } from "../../../src/cli/bench/BenchSocket.ts"
import { signedIn } from "../../fixtures/AuthClient.ts"
import { rest } from "../../fixtures/Clients.ts"

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/** Runs `task` over `items` with at most `limit` in flight, keeping the order of the results. */
export const inPool = async <T, R>(items: ReadonlyArray<T>, limit: number, task: (item: T, i: number) => Promise<R>) => {
  const out: Array<R> = Array.from({ length: items.length })
  let next = 0
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const i = next++
      out[i] = await task(items[i]!, i)
    }
  }))
  return out
}

let retries = 0

/** Set-up calls answered 503 (channel or service unavailable, documented as safe to retry) and retried. */
export const setupRetries = () => retries

/** Retries a set-up call answered 503 with a growing backoff (up to ~20 s in all), counting each retry. */
const retrying = async <A>(call: () => Promise<A>): Promise<A> => {
  for (let attempt = 0; ; attempt++) {
    try {
      return await call()
    } catch (error) {
      if (attempt >= 15 || !/: 503/.test(String(error))) throw error
      retries++
      await sleep(Math.min(2000, 100 * 2 ** attempt))
    }
  }
}

/** Opens a raw socket (shared with `plexichat bench`). */
export { historyOf, open } from "../../../src/cli/bench/BenchSocket.ts"

export const openAll = (urls: ReadonlyArray<string>, limit = 200) => inPool(urls, limit, open)

export const closeAll = (sockets: ReadonlyArray<WebSocket>) => {
  for (const ws of sockets) ws.terminate()
}

/**
 * Access tokens of distinct users `<prefix>0…`, signed up through the real flow at the node at `url` (or signed
 * in, when a user exists), 16 at a time: the node hashes one password per spare core, so more in flight only queue.
 */
export const tokensOf = (url: string, prefix: string, n: number) =>
  inPool(Array.from({ length: n }, (_, i) => `${prefix}${i}`), 16, async (user) => (await retrying(() => signedIn(url, user))).token)

/** `n` public channels created over REST by the token's user (who is then a member and may post). */
export const createChannels = (url: string, token: string, n: number, name: string) => {
  const api = rest(url, token)
  return inPool(Array.from({ length: n }, (_, i) => i), 16, async (i) => (await retrying(() => api.createChannel(`${name}-${i}`))).id)
}

export const join = (url: string, token: string, channelId: string) => retrying(() => rest(url, token).join(channelId))

/**
 * Subscribes the socket to every channel and waits for every `subscribed`. A
 * `channel_unavailable` (documented as temporary) is retried after a backoff
 * and counted in `setupRetries`; any other error rejects.
 */
export const subscribe = (ws: WebSocket, channelIds: ReadonlyArray<string>) =>
  subscribeAll(ws, channelIds, 90_000, () => {
    retries++
  })
