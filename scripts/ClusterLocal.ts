/**
 * `npm run cluster:local -- [--nodes 3] [--base-port P] [--runner-base-port R]`:
 * starts N nodes (`node-1` … `node-N`) on loopback that form one cluster
 * over one Postgres, on public ports P, P+1, … and runner ports R, R+1, …
 *
 * Settings are read through the node's own config modules (DatabaseConfig,
 * EdgeConfig, DevTokenConfig, AuthConfig, MfaConfig, ClusterConfig), so names, defaults and
 * validation are the node's: P defaults to `PORT`, R to `PLEXI_RUNNER_PORT`
 * (the flags win), the database is `DATABASE_URL` (default
 * postgres://postgres@127.0.0.1:5432/plexichat, created when missing), and
 * `PLEXI_DEV_TOKEN_SECRET` is shared by every node (a random one for this run
 * when it is the public default), and so are `PLEXI_AUTH_SIGNING_KEYS` and
 * `PLEXI_AUTH_MFA_KEYS` (one random key for this run when unset: TOTP
 * enrolled in an earlier run then cannot be checked). The nodes inherit the
 * environment.
 * Ctrl-C or SIGTERM stops every node with SIGTERM and waits for it.
 */
import { randomBytes } from "node:crypto"
import { resolve } from "node:path"
import { parseArgs } from "node:util"
import { Command } from "@effect/platform"
import { NodeContext, NodeRuntime } from "@effect/platform-node"
import { Config, ConfigProvider, Console, Effect, Option, Redacted, Stream } from "effect"
import pg from "pg"
import { config as clusterConfig } from "../runtime/cluster/ClusterConfig.ts"
import { config as edgeConfig } from "../runtime/edge/EdgeConfig.ts"
import { config as databaseConfig } from "../runtime/sql/DatabaseConfig.ts"
import { config as authConfig } from "../src/auth/AuthConfig.ts"
import { config as devTokenConfig, defaultSecret } from "../src/auth/DevTokenConfig.ts"
import { config as mfaConfig, MFA_KEYS } from "../src/auth/mfa/MfaConfig.ts"

/** One `kid=secret` key for this run. */
const randomKey = () => `local-${randomBytes(4).toString("hex")}=${randomBytes(32).toString("base64url")}`

const root = resolve(import.meta.dirname, "..")
const defaultDatabaseUrl = "postgres://postgres@127.0.0.1:5432/plexichat"

const { values: flags } = parseArgs({
  options: {
    nodes: { type: "string" },
    "base-port": { type: "string" },
    "runner-base-port": { type: "string" }
  }
})

/** A provider of the given command-line values (unset flags left out). */
const fromFlags = (entries: ReadonlyArray<readonly [string, string | undefined]>) =>
  ConfigProvider.fromMap(new Map(entries.filter((e): e is readonly [string, string] => e[1] !== undefined)))

/** The command line, validated like the node's settings (errors name the flag). */
const cliConfig = Config.all({
  nodes: Config.integer("--nodes").pipe(
    Config.validate({ message: "--nodes must be at least 1", validation: (n) => n >= 1 }),
    Config.withDefault(3)
  ),
  basePort: Config.option(Config.port("--base-port")),
  runnerBasePort: Config.option(Config.port("--runner-base-port"))
})
const cli = Effect.withConfigProvider(
  cliConfig,
  fromFlags([["--nodes", flags.nodes], ["--base-port", flags["base-port"]], ["--runner-base-port", flags["runner-base-port"]]])
)

const ensureDatabase = (url: string) =>
  Effect.tryPromise(async () => {
    const name = new URL(url).pathname.slice(1)
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
  })

/** Runs one node until it exits, its output prefixed with its name. */
const runNode = (name: string, env: Record<string, string>) =>
  Effect.scoped(Effect.gen(function*() {
    const node = yield* Command.make(process.execPath, "--import", "tsx", "runtime/main.ts").pipe(
      Command.workingDirectory(root),
      Command.env(env),
      Command.start
    )
    const prefixed = (output: Stream.Stream<Uint8Array, unknown>, write: (line: string) => Effect.Effect<void>) =>
      output.pipe(Stream.decodeText(), Stream.splitLines, Stream.runForEach((line) => write(`[${name}] ${line}`)), Effect.ignore)
    const [, , code] = yield* Effect.all([
      prefixed(node.stdout, Console.log),
      prefixed(node.stderr, Console.error),
      Effect.either(node.exitCode)
    ], { concurrency: "unbounded" })
    yield* Console.log(`[${name}] exited (${code._tag === "Right" ? code.right : code.left.message})`)
  })).pipe(Effect.onInterrupt(() => Console.log(`[${name}] stopped`)))

const program = Effect.gen(function*() {
  const { basePort, nodes: count, runnerBasePort } = yield* cli
  // The node's own settings (environment): DATABASE_URL, PORT, PLEXI_RUNNER_PORT, PLEXI_DEV_TOKEN_SECRET.
  const [store, edge, tokens, cluster, auth, mfa] = yield* Effect.all([
    databaseConfig,
    edgeConfig,
    devTokenConfig,
    clusterConfig,
    authConfig,
    mfaConfig
  ])
  const node = {
    port: Option.getOrElse(basePort, () => edge.port),
    runnerPort: Option.getOrElse(runnerBasePort, () => cluster.runnerPort)
  }
  const lastPort = Math.max(node.port, node.runnerPort) + count - 1
  if (lastPort > 65535) return yield* Effect.dieMessage(`${count} nodes do not fit below port 65535 from port ${Math.max(node.port, node.runnerPort)}`)
  const databaseUrl = Redacted.value(Option.getOrElse(store.url, () => Redacted.make(defaultDatabaseUrl)))
  yield* ensureDatabase(databaseUrl)
  // Every node must sign and verify tokens with the same secret; a cluster refuses the public default.
  const secret = Redacted.value(tokens.secret)
  const devTokenSecret = secret === defaultSecret ? randomBytes(24).toString("base64url") : secret
  // The same for access-token signing keys: the configured ones, or one random key for this run.
  const signingKeys = Option.isSome(auth.signingKeys)
    ? yield* Config.string("PLEXI_AUTH_SIGNING_KEYS")
    : randomKey()
  // And for the keys of TOTP secrets at rest (random: TOTP enrolled in an earlier run cannot be checked in this one).
  const mfaKeys = Option.isSome(mfa.keys) ? yield* Config.string(MFA_KEYS) : randomKey()
  yield* Console.log(`starting ${count} nodes: ports ${node.port}-${node.port + count - 1}, runner ports ${node.runnerPort}-${node.runnerPort + count - 1}`)
  yield* Effect.forEach(
    Array.from({ length: count }, (_, i) => i),
    (i) =>
      runNode(`node-${i + 1}`, {
        DATABASE_URL: databaseUrl,
        PLEXI_DEV_TOKEN_SECRET: devTokenSecret,
        PLEXI_AUTH_SIGNING_KEYS: signingKeys,
        PLEXI_AUTH_MFA_KEYS: mfaKeys,
        PORT: String(node.port + i),
        PLEXI_NODE_ID: `node-${i + 1}`,
        PLEXI_RUNNER_HOST: "127.0.0.1",
        PLEXI_RUNNER_PORT: String(node.runnerPort + i)
      }),
    { concurrency: "unbounded", discard: true }
  )
})

program.pipe(Effect.provide(NodeContext.layer), NodeRuntime.runMain)
