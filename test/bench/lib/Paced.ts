/**
 * Paced load for latency: `send(i, sentAt)` at `rate` per second, and
 * post → delivery samples taken from bodies `t<sentAt>` the subscribers echo.
 */
import type WebSocket from "ws"
import { sleep } from "./BenchClients.ts"
import { percentile } from "./Rounds.ts"

/** Sends `rate × seconds` messages at `rate`/s, numbered from `first`. */
export const paced = async (rate: number, seconds: number, first: number, send: (i: number, sentAt: number) => void) => {
  const total = Math.round(rate * seconds)
  const start = performance.now()
  let i = 0
  while (i < total) {
    const due = Math.floor(((performance.now() - start) / 1000) * rate)
    while (i < Math.min(due, total)) send(first + i++, performance.now())
    await sleep(1)
  }
  return total
}

/** Records post → delivery times on the subscribers while `measuring` is on. */
export const latencySampler = (subscribers: ReadonlyArray<WebSocket>) => {
  const samples: Array<number> = []
  const state = { measuring: false, received: 0, since: Number.POSITIVE_INFINITY }
  const on = (data: Buffer) => {
    const m = /"body":"t(\d+(?:\.\d+)?)"/.exec(data.toString())
    // Only messages sent after `start()`: the warm-up's late deliveries are not samples.
    if (m && state.measuring && Number(m[1]) >= state.since) {
      samples.push(performance.now() - Number(m[1]))
      state.received++
    }
  }
  for (const ws of subscribers) ws.on("message", on)
  return {
    start: () => {
      state.measuring = true
      state.since = performance.now()
    },
    received: () => state.received,
    /** Waits until `expected` samples are in (at most `timeoutMs`), stops, and returns p50 / p99. */
    finish: async (expected: number, timeoutMs = 5000) => {
      const deadline = performance.now() + timeoutMs
      while (state.received < expected && performance.now() < deadline) await sleep(5)
      state.measuring = false
      for (const ws of subscribers) ws.off("message", on)
      const sorted = samples.sort((a, b) => a - b)
      return { p50: percentile(sorted, 50), p99: percentile(sorted, 99), n: sorted.length, expected }
    }
  }
}
