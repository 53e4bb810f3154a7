/**
 * The ingest baseline: 500-row multi-row INSERTs, one after the other on one
 * node-postgres connection, into a fresh table of the same database (message
 * rows of the same shape), for `seconds`. Measures its own Postgres backend's
 * CPU per row.
 */
import pg from "pg"
import { pgBackendCpu } from "./ProcessStats.ts"

const body = "x".repeat(64)
let tables = 0

export const batchedInsert = async (databaseUrl: string, channels: number, seconds: number) => {
  const client = new pg.Client({ connectionString: databaseUrl })
  await client.connect()
  const table = `bench_rows_${++tables}`
  try {
    await client.query(`CREATE TABLE ${table} (channel_id text, seq bigint, author_id text, client_msg_id text, body text, created_at bigint, PRIMARY KEY (channel_id, seq))`)
    const backend = await pgBackendCpu(databaseUrl, { client })
    let rows = 0
    const start = performance.now()
    while (performance.now() - start < seconds * 1000) {
      const values: Array<string> = []
      const params: Array<unknown> = []
      for (let i = 0; i < 500; i++, rows++) {
        const o = params.length
        values.push(`($${o + 1},$${o + 2},$${o + 3},$${o + 4},$${o + 5},$${o + 6})`)
        params.push(`c${rows % channels}`, rows, "bench", `k${rows}`, body, Date.now())
      }
      await client.query(`INSERT INTO ${table} VALUES ${values.join(",")}`, params)
    }
    const rate = rows / ((performance.now() - start) / 1000)
    const pgMs = await backend.stop()
    await client.query(`DROP TABLE ${table}`)
    return { rate, pgUsPerRow: (pgMs * 1000) / rows }
  } finally {
    await client.end()
  }
}
