/**
 * The CLI's database connections: the installation's Postgres (`DATABASE_URL`), opened only when a command that
 * reads it runs (so `--help` needs no database), and any other Postgres a command names (a restore's target).
 */
import { PgClient } from "@effect/sql-pg"
import { Effect, Layer, type Redacted } from "effect"
import { databaseUrl } from "./CliConfig.ts"

export const layerUrl = (url: Redacted.Redacted<string>) => PgClient.layer({ url, maxConnections: 2, applicationName: "plexichat-cli" })

export const Database = Layer.unwrapEffect(Effect.map(databaseUrl, layerUrl))
