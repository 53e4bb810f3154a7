/**
 * `plexichat audit verify`, `plexichat audit head` and `plexichat audit query`.
 *
 * - `verify` checks the whole chain; it prints `ok: N rows, head <hash>` or
 *   `broken at row N: <problem>` and exits with status 1. Each
 *   `--anchor <seq>:<hash>` must still be in the chain: a log cut off
 *   before the anchored row, or rewritten at or before it, is broken.
 * - `head` prints the newest entry's seq and hash (`--json`: one JSON
 *   object) to copy off the database as an anchor; it exits with status 1
 *   when the head row disagrees with the newest row.
 * - `query` prints matching entries as JSON lines, oldest first (from the
 *   node at `--url` / `PLEXI_URL` over the typed RPC client when one is
 *   given, signed in as for the other remote commands; else from
 *   `DATABASE_URL`), filtered by
 *   `--actor`, `--action`, `--since`, `--until` (an ISO 8601 time or
 *   milliseconds since the epoch), `--after-seq` and `--limit` (1 to 1000,
 *   default 100).
 */
import { Command, HelpDoc, Options, ValidationError } from "@effect/cli"
import { SqlClient } from "@effect/sql"
import { Console, Effect, Option } from "effect"
import type { AuditQuery } from "../../domain/Audit.ts"
import * as AuditRows from "../audit/AuditRows.ts"
import { type Anchor, verify } from "../audit/AuditVerify.ts"
import { Database } from "./CliDatabase.ts"
import { remoteOptions, signedIn } from "./Remote.ts"
import { remoteConfig } from "./RemoteConfig.ts"

const invalid = (message: string) => Effect.fail(ValidationError.invalidValue(HelpDoc.p(message)))

/** An anchor option: `<seq>:<hash>`, as `audit head` prints it. */
const anchorOf = (text: string) => {
  const parsed = /^(\d{1,15}):([0-9a-f]{64})$/.exec(text)
  return parsed === null
    ? invalid(`--anchor: <seq>:<hash> (a seq and 64 lower-case hex digits, as plexichat audit head prints): ${text.slice(0, 90)}`)
    : Effect.succeed({ seq: Number(parsed[1]), hash: parsed[2]! } satisfies Anchor)
}

const anchorOption = Options.text("anchor").pipe(
  Options.withDescription("A head copied earlier (`plexichat audit head`), as <seq>:<hash>; fails unless the log still holds it. Repeatable."),
  Options.repeated,
  Options.mapEffect((texts) => Effect.forEach(texts, anchorOf))
)

const failed = Effect.sync(() => {
  process.exitCode = 1
})

const verifyCommand = Command.make("verify", { anchors: anchorOption }, ({ anchors }) =>
  Effect.gen(function*() {
    const verdict = yield* verify(yield* SqlClient.SqlClient, anchors)
    if (verdict._tag === "Intact") {
      yield* Console.log(`ok: ${verdict.rows} rows, head ${verdict.headHash}`)
      for (const anchor of anchors) yield* Console.log(`anchor ${anchor.seq}:${anchor.hash} holds`)
      return
    }
    yield* Console.log(`broken at row ${verdict.seq}: ${verdict.problem} (rows 1-${verdict.verifiedRows} verified)`)
    yield* failed
  })).pipe(Command.withDescription("Checks the audit log's hash chain (and the anchors given) and names the first bad row."))

const headCommand = Command.make("head", { json: Options.boolean("json").pipe(Options.withDescription("Print one JSON object.")) }, ({ json }) =>
  Effect.gen(function*() {
    const head = yield* AuditRows.newest(yield* SqlClient.SqlClient)
    const anchor = `${head.seq}:${head.hash}`
    const at = head.at === null ? null : new Date(head.at).toISOString()
    yield* Console.log(
      json
        ? JSON.stringify({ seq: head.seq, hash: head.hash, at: head.at, anchor })
        : head.at === null
        ? `head: no entries yet; anchor ${anchor}`
        : `head: row ${head.seq} at ${at}, hash ${head.hash}; anchor ${anchor}`
    )
    if (head.recorded.seq !== head.seq || head.recorded.hash !== head.hash) {
      yield* Console.error(`the head row records seq ${head.recorded.seq} with another hash: run plexichat audit verify`)
      yield* failed
    }
  })).pipe(Command.withDescription("Prints the newest entry's seq and hash: copy it off the database to anchor the chain."))

/** A time option: ISO 8601 or milliseconds since the epoch. */
const time = (name: string, description: string) =>
  Options.text(name).pipe(
    Options.withDescription(description),
    Options.mapEffect((text) => {
      const ms = /^\d+$/.test(text) ? Number(text) : Date.parse(text)
      return Number.isSafeInteger(ms) && ms >= 0
        ? Effect.succeed(ms)
        : invalid(`--${name}: not a time (ISO 8601 like 2026-12-02T17:00:00Z, or milliseconds since the epoch): ${text.slice(0, 64)}`)
    }),
    Options.optional
  )

const bounded = (text: string, name: string) =>
  text.length > 0 && text.length <= 64 ? Effect.succeed(text) : invalid(`--${name}: 1 to 64 characters`)

const queryOptions = {
  actor: Options.text("actor").pipe(Options.withDescription("Only entries of this actor (a user id)."), Options.mapEffect((t) => bounded(t, "actor")), Options.optional),
  action: Options.text("action").pipe(Options.withDescription("Only entries with this action (e.g. auth.login_failed)."), Options.mapEffect((t) => bounded(t, "action")), Options.optional),
  since: time("since", "Only entries at or after this time."),
  until: time("until", "Only entries before this time."),
  afterSeq: Options.integer("after-seq").pipe(Options.withDescription("Only entries after this seq (paging)."), Options.withDefault(0)),
  limit: Options.integer("limit").pipe(Options.withDescription("At most this many entries (1 to 1000)."), Options.withDefault(100))
}

/** The installation's Postgres, opened only when a command that reads it runs (so `--help` needs no database). */

/** Remote when `--url` is given or `PLEXI_URL` set: the typed RPC `QueryAudit` (owners and admins), else `DATABASE_URL`. */
const remoteWanted = (url: Option.Option<string>) =>
  Option.isSome(url) ? Effect.succeed(true) : Effect.map(Effect.orElseSucceed(remoteConfig, () => undefined), (c) => c !== undefined && Option.isSome(c.url))

const queryCommand = Command.make("query", { ...queryOptions, ...remoteOptions }, (o) =>
  Effect.gen(function*() {
    if (o.limit < 1 || o.limit > 1000) return yield* invalid("--limit: 1 to 1000")
    if (o.afterSeq < 0) return yield* invalid("--after-seq: not negative")
    const q: { -readonly [K in keyof AuditQuery]: AuditQuery[K] } = { afterSeq: o.afterSeq, limit: o.limit }
    if (Option.isSome(o.actor)) q.actor = o.actor.value
    if (Option.isSome(o.action)) q.action = o.action.value
    if (Option.isSome(o.since)) q.since = o.since.value
    if (Option.isSome(o.until)) q.until = o.until.value
    const entries = (yield* remoteWanted(o.url))
      ? yield* signedIn(o, (c) => c.QueryAudit(q))
      : yield* Effect.provide(Effect.flatMap(SqlClient.SqlClient, (sql) => AuditRows.query(sql)(q)), Database)
    for (const entry of entries) yield* Console.log(JSON.stringify(entry))
  })).pipe(Command.withDescription("Prints audit entries as JSON lines, oldest first: over RPC with --url / PLEXI_URL, else from DATABASE_URL."))

export const auditCommand = Command.make("audit").pipe(
  Command.withDescription("The tamper-evident audit log."),
  Command.withSubcommands([
    verifyCommand.pipe(Command.provide(Database)),
    headCommand.pipe(Command.provide(Database)),
    queryCommand
  ])
)
