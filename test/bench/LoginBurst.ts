/**
 * Whether a burst of sign-ins slows live fan-out: one node on a fresh
 * database of the real Postgres, a WebSocket subscriber receiving a post
 * every 10 ms, and, after a 3 s baseline, another process signing in with
 * 16 clients in a loop for 3 s. Prints the delivery latency (post sent →
 * message received, this process's clock) before and during the burst, and
 * the sign-ins per second (docs/SECURITY.md, "Passwords").
 *
 *   flock /tmp/plexi-bench.lock node --import tsx test/bench/LoginBurst.ts
 *
 * The node hashes at the shipped Argon2id cost (AuthConfig's default, not
 * the test fixture's cheap one), plus the environment of BURST_ENV (JSON),
 * e.g. BURST_ENV='{"PLEXI_AUTH_HASH_CONCURRENCY":"2"}'.
 */
import { execFile } from "node:child_process"
import { authClient } from "../fixtures/AuthClient.ts"
import { WsClient } from "../fixtures/Clients.ts"
import { defaultArgon2 } from "../../src/auth/AuthConfig.ts"
import { startNode } from "../fixtures/NodeProcess.ts"
import { makeTestDatabase } from "../fixtures/TestDatabase.ts"

const PHASE_MS = 3000
const password = "a long and unusual passphrase"
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** Signs in as `username` with `clients` loops for `ms`, from another process; answers the sign-ins that succeeded. */
const burstFromAnotherProcess = (url: string, username: string, clients: number, ms: number) => {
  const body = JSON.stringify({ username, password })
  const script = `const until = Date.now() + ${ms}; let n = 0;
    await Promise.all(Array.from({ length: ${clients} }, async () => { while (Date.now() < until) {
      const r = await fetch(${JSON.stringify(`${url}/api/v1/auth/login`)}, { method: "POST",
        headers: { "content-type": "application/json" }, body: ${JSON.stringify(body)} });
      await r.text(); if (r.status === 200) n++ } }));
    console.log(n)`
  return new Promise<number>((resolve, reject) =>
    execFile(process.execPath, ["--input-type=module", "-e", script], (error, out) => (error ? reject(error) : resolve(Number(out.trim())))))
}

const summary = (latencies: Array<number>) => {
  const l = [...latencies].sort((a, b) => a - b)
  const at = (q: number) => l[Math.min(l.length - 1, Math.floor(l.length * q))]!.toFixed(1)
  return `${l.length} messages, delivery latency p50 ${at(0.5)} p99 ${at(0.99)} max ${at(1)} ms`
}

const db = await makeTestDatabase()
const shippedCost = {
  PLEXI_AUTH_ARGON2_MEMORY_KIB: String(defaultArgon2.memoryKib),
  PLEXI_AUTH_ARGON2_TIME_COST: String(defaultArgon2.timeCost),
  PLEXI_AUTH_ARGON2_PARALLELISM: String(defaultArgon2.parallelism)
}
const node = await startNode({
  databaseUrl: db.url,
  env: { PLEXI_LOG_LEVEL: "Warn", ...shippedCost, ...JSON.parse(process.env.BURST_ENV ?? "{}") }
})
try {
  const auth = authClient(node.url)
  const poster = await auth.signUp("poster", password)
  const watcher = await auth.signUp("watcher", password)
  const headers = (token: string) => ({ authorization: `Bearer ${token}`, "content-type": "application/json" })
  const channel = (await (await fetch(`${node.url}/api/v1/channels`, {
    method: "POST",
    headers: headers(poster.accessToken),
    body: JSON.stringify({ name: "burst" })
  })).json()) as { id: string }
  await fetch(`${node.url}/api/v1/channels/${channel.id}/join`, { method: "POST", headers: { authorization: `Bearer ${watcher.accessToken}` } })
  const subscriber = await WsClient.connect(node.wsUrl, watcher.accessToken)
  await subscriber.request({ type: "subscribe", channelId: channel.id })
  const sender = await WsClient.connect(node.wsUrl, poster.accessToken)

  const sentAt = new Map<string, number>()
  const phases: Record<"baseline" | "burst" | "after", Array<number>> = { baseline: [], burst: [], after: [] }
  let phase: keyof typeof phases = "baseline"
  subscriber.socket.on("message", (data) => {
    const frame = JSON.parse(data.toString())
    const sent = frame.type === "message" ? sentAt.get(frame.message.clientMsgId) : undefined
    if (sent !== undefined) phases[phase].push(performance.now() - sent)
  })
  let n = 0
  const posting = setInterval(() => {
    const clientMsgId = `m${n++}`
    sentAt.set(clientMsgId, performance.now())
    sender.send({ type: "post", channelId: channel.id, clientMsgId, body: "x" })
  }, 10)
  await sleep(PHASE_MS)
  phase = "burst"
  const started = performance.now()
  const signIns = await burstFromAnotherProcess(node.url, "watcher", 16, PHASE_MS)
  const seconds = (performance.now() - started) / 1000
  phase = "after"
  await sleep(500)
  clearInterval(posting)
  console.log(`node env ${process.env.BURST_ENV ?? "{}"}`)
  console.log(`before the burst: ${summary(phases.baseline)}`)
  console.log(`during the burst: ${summary(phases.burst)}`)
  console.log(`sign-ins: ${signIns} in ${seconds.toFixed(1)} s = ${(signIns / seconds).toFixed(1)}/s (16 clients in a loop)`)
  subscriber.close()
  sender.close()
} finally {
  await node.stop()
  await db.drop()
}
