/**
 * `logins`: password sign-ins per second at the shipped Argon2id cost
 * (19 MiB, 2 passes, 1 lane) and hash concurrency, on one node on
 * Postgres: 16 clients sign in to 32 accounts in a loop for 5 s. Baseline:
 * bare `@node-rs/argon2` verifications at the same cost and the same
 * concurrency, in this process, which is the ceiling of a sign-in rate (every
 * sign-in is one verification). Reported with the node's and Postgres's CPU
 * per sign-in (the bench's relaxed limits: every client comes from
 * 127.0.0.1). Only the work finished within the 5 s counts.
 */
import { availableParallelism } from "node:os"
import { hash, verify } from "@node-rs/argon2"
import { authClient } from "../../fixtures/AuthClient.ts"
import type { NodeProcess } from "../../fixtures/NodeProcess.ts"
import { inPool } from "../lib/BenchClients.ts"
import { relaxedEnv } from "../lib/BenchEnv.ts"
import { withDatabase, withNodes } from "../lib/Lifecycle.ts"
import { cpuWindow, pgBackendCpu } from "../lib/ProcessStats.ts"
import { report } from "../lib/Results.ts"
import { alternate, fmt3, median } from "../lib/Rounds.ts"

const SECONDS = 5
const CLIENTS = 16
const ACCOUNTS = 32
const password = "a long and unusual bench passphrase"

/** The shipped defaults (src/auth/AuthConfig.ts), set explicitly: test nodes otherwise hash cheaply. */
const COST = { memoryCost: 19_456, timeCost: 2, parallelism: 1 }
const CONCURRENCY = Math.max(1, Math.min(4, availableParallelism() - 1))
const shippedCostEnv = {
  PLEXI_AUTH_ARGON2_MEMORY_KIB: String(COST.memoryCost),
  PLEXI_AUTH_ARGON2_TIME_COST: String(COST.timeCost),
  PLEXI_AUTH_ARGON2_PARALLELISM: String(COST.parallelism),
  PLEXI_AUTH_HASH_CONCURRENCY: String(CONCURRENCY)
}

/** `work` by CLIENTS loops for SECONDS; answers how many finished within them and how many failed. */
const loop = async (work: (i: number) => Promise<boolean>) => {
  const until = Date.now() + SECONDS * 1000
  let done = 0
  let failed = 0
  await Promise.all(Array.from({ length: CLIENTS }, async (_, client) => {
    for (let i = client; Date.now() < until; i += CLIENTS) {
      const succeeded = await work(i)
      if (!succeeded) failed++
      else if (Date.now() <= until) done++
    }
  }))
  return { done, failed }
}

const baselineRound = async (hashed: string) => {
  // CONCURRENCY verifications at once, as the node's semaphore allows.
  let running = 0
  const waiting: Array<() => void> = []
  const permit = async () => {
    if (running >= CONCURRENCY) await new Promise<void>((r) => waiting.push(r))
    running++
  }
  const release = () => {
    running--
    waiting.shift()?.()
  }
  const { done } = await loop(async () => {
    await permit()
    try {
      return await verify(hashed, password, { ...COST, algorithm: 2 })
    } finally {
      release()
    }
  })
  return done / SECONDS
}

const nodeRound = async (node: NodeProcess, databaseUrl: string, usernames: ReadonlyArray<string>) => {
  const auth = authClient(node.url)
  const cpu = cpuWindow([node.child.pid!])
  const pg = await pgBackendCpu(databaseUrl)
  const { done, failed } = await loop(async (i) => (await auth.login({ username: usernames[i % usernames.length], password })).status === 200)
  const nodeMs = cpu.stop()
  const pgMs = await pg.stop()
  return { perSecond: done / SECONDS, failed, nodeUsPerLogin: (nodeMs * 1000) / Math.max(1, done), pgUsPerLogin: (pgMs * 1000) / Math.max(1, done) }
}

export const logins = () =>
  withDatabase((db) =>
    withNodes([{ name: "logins", databaseUrl: db.url, env: { ...relaxedEnv, ...shippedCostEnv } }], async ([node]) => {
      const usernames = Array.from({ length: ACCOUNTS }, (_, i) => `login-bench-${i}`)
      await inPool(usernames, 4, (username) => authClient(node!.url).signUp(username, password))
      const hashed = await hash(password, { ...COST, algorithm: 2 })
      const { plexi, baseline } = await alternate(() => nodeRound(node!, db.url, usernames), () => baselineRound(hashed))
      const failed = plexi.reduce((n, p) => n + p.failed, 0)
      report({
        scenario: `password sign-ins, Argon2id ${COST.memoryCost} KiB × ${COST.timeCost} passes, ${CONCURRENCY} at once, ` +
          `${CLIENTS} clients${failed > 0 ? `, ${failed} refused` : ""}`,
        plexi: fmt3(plexi.map((p) => p.perSecond), 1, "sign-ins/s"),
        baseline: `${fmt3(baseline, 1, "verifications/s")} (bare @node-rs/argon2, same cost and concurrency)`,
        ratio: `${(median(plexi.map((p) => p.perSecond)) / median(baseline)).toFixed(2)}×`,
        cpu: `node ${fmt3(plexi.map((p) => p.nodeUsPerLogin))} µs, Postgres ${fmt3(plexi.map((p) => p.pgUsPerLogin))} µs per sign-in`,
        target: "≥ 0.8× bare verifications, none refused",
        met: failed === 0 && median(plexi.map((p) => p.perSecond)) >= 0.8 * median(baseline)
      })
    }))
