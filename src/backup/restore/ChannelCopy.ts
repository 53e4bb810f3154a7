/**
 * One channel copied out of a backup chain into the live database under a new id (docs/BACKUPS.md#channel-copy):
 * its row (owner epoch reset to 0, a fresh channel), its members, and its messages (a channel's events: every
 * message row with its `seq`, so history and resume positions carry over). The channel and its members are taken
 * from the chain's newest backup (those tables are whole in every backup); the messages from every backup of the
 * chain (they are appended). All of it in one transaction: a new id that is taken (`ChannelIdTaken`), a channel the
 * chain does not hold (`ChannelNotInBackup`) or any failed check applies nothing. Members whose user no longer
 * exists are skipped and reported. The rows are held in memory (about the channel's size in the backup).
 */
import { SqlClient } from "@effect/sql"
import { Effect, Stream } from "effect"
import { RestoreFailed } from "../../../domain/Backup.ts"
import { ChannelIdTaken, ChannelNotInBackup } from "../../../domain/BackupChannelCopy.ts"
import type { RecipientPrivateKey, SigningPublicKey } from "../crypto/BackupKeys.ts"
import type { Manifest } from "../crypto/Manifest.ts"
import { insertRows, type TableRows } from "./ChannelCopyRows.ts"
import { linesOf, openManifest } from "./RestoreBackup.ts"

export interface ChannelCopyOptions {
  readonly manifests: ReadonlyArray<{ readonly label: string; readonly text: string }>
  readonly signingKey: SigningPublicKey
  readonly recipientKey: RecipientPrivateKey
  readonly channel: string
  readonly newId: string
}

export interface ChannelCopied {
  readonly backupId: string
  readonly channel: string
  readonly newId: string
  readonly members: number
  /** Members of the backup whose user no longer exists in the live database. */
  readonly skippedMembers: ReadonlyArray<string>
  readonly messages: number
}

const tables = { channel: "plexi_channels", members: "plexi_channel_members", messages: "plexi_messages" } as const
const channelColumn: Record<string, string> = { plexi_channels: "id", plexi_channel_members: "channel_id", plexi_messages: "channel_id" }

/** The channel's rows of one backup, the channel id already replaced by the new one. */
const rowsOfBackup = (manifest: Manifest, dataKey: Uint8Array, options: ChannelCopyOptions) =>
  Effect.gen(function*() {
    const found = new Map<string, TableRows>()
    let current: { rows: TableRows; index: number } | undefined
    yield* Stream.runForEach(linesOf(manifest, dataKey), (line) =>
      Effect.sync(() => {
        if (!line.startsWith("[")) {
          const control = JSON.parse(line) as { table?: string; columns?: Array<string> }
          const column = control.table === undefined ? undefined : channelColumn[control.table]
          current = column === undefined || control.columns === undefined
            ? undefined
            : { rows: { table: control.table!, columns: control.columns, rows: [] }, index: control.columns.indexOf(column) }
          if (current !== undefined) found.set(current.rows.table, current.rows)
          return
        }
        if (current === undefined || current.index < 0 || !line.includes(JSON.stringify(options.channel))) return
        const row = JSON.parse(line) as Array<string | null>
        if (row[current.index] !== options.channel) return
        row[current.index] = options.newId
        current.rows.rows.push(row)
      }))
    return found
  })

/** The chain's rows of the channel: channel and members of the newest backup, messages of all. */
const chainRows = (options: ChannelCopyOptions) =>
  Effect.gen(function*() {
    let newest: Map<string, TableRows> | undefined
    const messages: Array<Array<string | null>> = []
    let messageColumns: ReadonlyArray<string> = []
    let backupId = "?"
    for (const { label, text } of options.manifests) {
      const { dataKey, manifest } = yield* openManifest(label, text, options.signingKey, options.recipientKey)
      newest = yield* rowsOfBackup(manifest, dataKey!, options)
      const m = newest.get(tables.messages)
      if (m !== undefined) {
        messages.push(...m.rows)
        messageColumns = m.columns
      }
      backupId = manifest.backupId
    }
    return { backupId, newest: newest ?? new Map<string, TableRows>(), messages: { table: tables.messages, columns: messageColumns, rows: messages } }
  })

export const copyChannel = (options: ChannelCopyOptions) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const { backupId, messages, newest } = yield* chainRows(options)
    const channel = newest.get(tables.channel)
    if (channel === undefined || channel.rows.length !== 1) {
      return yield* new ChannelNotInBackup({ backup: backupId, channel: options.channel, reason: "the chain's newest backup holds no such channel" })
    }
    const epoch = channel.columns.indexOf("owner_epoch")
    if (epoch >= 0) channel.rows[0]![epoch] = "0"
    const members = newest.get(tables.members) ?? { table: tables.members, columns: [], rows: [] }
    const failed = (e: { readonly message: string; readonly cause?: unknown }) =>
      new RestoreFailed({ backup: backupId, shard: null, reason: `database: ${String((e.cause as Error | undefined)?.message ?? e.message)}` })
    return yield* sql.withTransaction(Effect.gen(function*() {
      const taken = yield* sql<{ id: string }>`SELECT id FROM plexi_channels WHERE id = ${options.newId} FOR UPDATE`
      if (taken.length > 0) return yield* new ChannelIdTaken({ channelId: options.newId, reason: "a channel with this id exists in the live database" })
      yield* insertRows(sql, channel, { returning: "id" })
      const kept = yield* insertRows(sql, members, {
        returning: "user_id",
        where: (index) => `EXISTS (SELECT 1 FROM plexi_users u WHERE u.id = r->>${index("user_id")})`
      })
      const inserted = yield* insertRows(sql, messages, { returning: "seq" })
      const userOf = members.columns.indexOf("user_id")
      const skippedMembers = members.rows.map((r) => String(r[userOf])).filter((u) => !kept.includes(u))
      return { backupId, channel: options.channel, newId: options.newId, members: kept.length, skippedMembers, messages: inserted.length } satisfies ChannelCopied
    }).pipe(Effect.catchTag("SqlError", (e) => Effect.fail(failed(e)))))
  })
