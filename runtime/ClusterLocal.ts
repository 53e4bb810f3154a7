/**
 * `npm run cluster:local -- --nodes 3 [--base-port 8080]`: starts N nodes
 * on loopback against one Postgres (`DATABASE_URL`, default
 * postgres://postgres@127.0.0.1:5432/plexichat, created when missing), on
 * public ports base, base+1, … and runner ports 24431, 24432, …
 * Ctrl-C stops them all gracefully.
 */
import { type ChildProcess, spawn } from "node:child_process"
import { randomBytes } from "node:crypto"
import { parseArgs } from "node:util"
import { Config, Effect, Redacted } from "effect"
import pg from "pg"

const { values } = parseArgs({
  options: {
    nodes: { type: "string", default: "3" },
    "base-port": { type: "string", default: "8080" },
    "runner-base-port": { type: "string", default: "24431" }
  }
})
const count = Number(values.nodes)
const basePort = Number(values["base-port"])
const runnerBasePort = Number(values["runner-base-port"])

const databaseUrl = Effect.runSync(
  Config.redacted("DATABASE_URL").pipe(
    Config.withDefault(Redacted.make("postgres://postgres@127.0.0.1:5432/plexichat"))
  )
)

const ensureDatabase = async (url: string) => {
  const target = new URL(url)
  const name = target.pathname.slice(1)
  const admin = new URL(url)
  admin.pathname = "/postgres"
  const client = new pg.Client({ connectionString: admin.toString() })
  await client.connect()
  try {
    const found = await client.query("SELECT 1 FROM pg_database WHERE datname = $1", [name])
    if (found.rowCount === 0) await client.query(`CREATE DATABASE "${name.replaceAll("\"", "\"\"")}"`)
  } finally {
    await client.end()
  }
}

await ensureDatabase(Redacted.value(databaseUrl))

// Every node must sign and verify tokens with the same secret; a cluster refuses the public default.
const devTokenSecret = Effect.runSync(
  Config.string("PLEXI_DEV_TOKEN_SECRET").pipe(Config.withDefault(randomBytes(24).toString("base64url")))
)

const children: Array<ChildProcess> = []
for (let i = 0; i < count; i++) {
  const name = `node-${i + 1}`
  const child = spawn(process.execPath, ["--import", "tsx", "runtime/main.ts"], {
    env: {
      ...process.env,
      DATABASE_URL: Redacted.value(databaseUrl),
      PLEXI_DEV_TOKEN_SECRET: devTokenSecret,
      PORT: String(basePort + i),
      PLEXI_NODE_ID: name,
      PLEXI_RUNNER_HOST: "127.0.0.1",
      PLEXI_RUNNER_PORT: String(runnerBasePort + i)
    },
    stdio: ["ignore", "pipe", "pipe"]
  })
  const prefix = (chunk: Buffer) => chunk.toString().split("\n").filter((l) => l.length > 0).map((l) => `[${name}] ${l}`).join("\n") + "\n"
  child.stdout!.on("data", (c: Buffer) => process.stdout.write(prefix(c)))
  child.stderr!.on("data", (c: Buffer) => process.stderr.write(prefix(c)))
  child.on("exit", (code, signal) => console.log(`[${name}] exited (${code ?? signal})`))
  children.push(child)
}

const stop = () => {
  for (const child of children) child.kill("SIGTERM")
}
process.on("SIGINT", stop)
process.on("SIGTERM", stop)
await Promise.all(children.map((c) => new Promise((resolve) => c.once("exit", resolve))))
