import { SqlClient } from "@effect/sql"
import { RunnerAddress } from "@effect/cluster"
import { Effect, Redacted } from "effect"
import { afterEach, describe, expect, it } from "vitest"
import { look } from "../../runtime/cluster/RunnerReaper.ts"
import { applicationName } from "../../runtime/cluster/RunnerSocket.ts"
import { layerPostgres } from "../../runtime/sql/Database.ts"
import { makeTestDatabase, type TestDatabase } from "../fixtures/TestDatabase.ts"

let db: TestDatabase | undefined
afterEach(async () => {
  await db?.drop()
  db = undefined
})

describe("the reaper's view of runner sessions", () => {
  it("sees the sessions of a runner advertised under a 120-character address", async () => {
    db = await makeTestDatabase()
    const host = "runner-0.plexichat-headless.a-rather-long-namespace.svc.cluster.local".padEnd(114, "x")
    const address = RunnerAddress.make(host, 24431)
    const text = `${host}:24431`
    expect(text.length).toBe(120)
    const url = Redacted.make(db.url)
    const runners = await Effect.runPromise(Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      yield* sql`CREATE TABLE cluster_runners (address TEXT PRIMARY KEY, last_heartbeat TIMESTAMPTZ NOT NULL)`
      yield* sql`INSERT INTO cluster_runners VALUES (${text}, NOW()), ('gone:1', NOW())`
      return yield* look
    }).pipe(Effect.provide(layerPostgres(url, { maxConnections: 1, applicationName: applicationName(address) })), Effect.scoped))
    const byAddress = new Map(runners.map((r) => [r.address, r]))
    expect(byAddress.get(text)?.hasSessions).toBe(true)
    expect(byAddress.get("gone:1")?.hasSessions).toBe(false)
    expect(byAddress.get(text)?.heartbeatAgeMs).toBeLessThan(5000)
  })
})
