/**
 * One channel copied out of a backup chain into the live database under a new id: its row, the members whose user
 * still exists (the others skipped and named), its messages of every backup of the chain; a taken id and a channel
 * the chain lacks fail with typed errors and change nothing.
 */
import { Effect } from "effect"
import { beforeAll, describe, expect, it } from "vitest"
import { type CreatedBackup, createBackup } from "../../src/backup/job/CreateBackup.ts"
import { latestParent } from "../../src/backup/job/IncrementalParent.ts"
import { copyChannel } from "../../src/backup/restore/ChannelCopy.ts"
import { backupSuite, failureOn, onDatabase, query } from "../fixtures/BackupFixture.ts"
import type { TestDatabase } from "../fixtures/TestDatabase.ts"

const { keys, source: seeded, store } = backupSuite(400, 100)
let live: TestDatabase
const chain: Array<CreatedBackup> = []

beforeAll(async () => {
  live = await seeded()
  chain.push(await onDatabase(live, store.layer, createBackup({ keys: keys.create, kind: "full" })))
  await query(live, "INSERT INTO plexi_messages (channel_id, seq, author_id, client_msg_id, body, created_at) VALUES ('c1', 201, 'u1', 'inc', 'in the incremental', 9999)")
  chain.push(await onDatabase(live, store.layer, Effect.flatMap(latestParent(keys.signing.privateKey), (parent) =>
    createBackup({ keys: keys.create, kind: "incremental", parent }))))
  // After the backups: the channel's messages are lost and bob is gone.
  await query(live, "DELETE FROM plexi_messages WHERE channel_id = 'c1'")
  await query(live, "DELETE FROM plexi_channel_members WHERE user_id = 'u2'")
  await query(live, "DELETE FROM plexi_users WHERE id = 'u2'")
}, 120_000)

const copy = (channel: string, newId: string) =>
  copyChannel({ manifests: chain.map((b) => ({ label: b.backupId, text: b.manifest })), signingKey: keys.signing.publicKey, recipientKey: keys.recipient.privateKey, channel, newId })

const counts = async () => (await query(live, "SELECT (SELECT count(*) FROM plexi_channels)::int AS c, (SELECT count(*) FROM plexi_messages)::int AS m, (SELECT count(*) FROM plexi_channel_members)::int AS mm"))[0]

describe("channel copy", () => {
  it("copies the channel, its existing members and every message of the chain under the new id, skipping members who no longer exist", async () => {
    const copied = await onDatabase(live, store.layer, copy("c1", "c1_copy"))
    expect(copied).toEqual({ backupId: chain[1]!.backupId, channel: "c1", newId: "c1_copy", members: 1, skippedMembers: ["u2"], messages: 201 })
    const [row] = await query(live, "SELECT name, visibility, created_by, owner_epoch::int AS epoch FROM plexi_channels WHERE id = 'c1_copy'")
    expect(row).toEqual({ name: "general", visibility: "public", created_by: "u1", epoch: 0 })
    expect(await query(live, "SELECT user_id, role FROM plexi_channel_members WHERE channel_id = 'c1_copy'")).toEqual([{ user_id: "u1", role: "owner" }])
    const [seqs] = await query(live, "SELECT min(seq)::int AS lo, max(seq)::int AS hi, count(DISTINCT seq)::int AS n FROM plexi_messages WHERE channel_id = 'c1_copy'")
    expect(seqs).toEqual({ lo: 1, hi: 201, n: 201 })
  })

  it("fails with ChannelIdTaken when the new id exists, and applies nothing", async () => {
    const before = await counts()
    const error = await failureOn(live, store.layer, copy("c2", "c1_copy"))
    expect(error).toMatchObject({ _tag: "ChannelIdTaken", channelId: "c1_copy" })
    expect(await counts()).toEqual(before)
  })

  it("fails with ChannelNotInBackup for a channel the chain does not hold", async () => {
    const error = await failureOn(live, store.layer, copy("nope", "c9"))
    expect(error).toMatchObject({ _tag: "ChannelNotInBackup", channel: "nope", backup: chain[1]!.backupId })
  })
})
