/**
 * `plexichat backup restore --channel <id> --as <newId|auto> --key <file> (<backup id> | --manifest <file>…)`: one
 * channel of a backup chain copied into the live database (`DATABASE_URL`) under a new id, in one transaction
 * (docs/BACKUPS.md#channel-copy); members whose user no longer exists are skipped and listed.
 */
import { Effect, Schema } from "effect"
import { ChannelId } from "../../domain/Ids.ts"
import { ChannelIdInvalid } from "../../domain/BackupChannelCopy.ts"
import { randomBytes } from "node:crypto"
import { copyChannel } from "../backup/restore/ChannelCopy.ts"
import type { RecipientPrivateKey, SigningPublicKey } from "../backup/crypto/BackupKeys.ts"
import { failed, report } from "./BackupCliSupport.ts"
import { maintenanceFailed } from "./BackupGcCommand.ts"
import { Database } from "./CliDatabase.ts"

export interface ChannelCopyRequest {
  readonly json: boolean
  readonly manifests: ReadonlyArray<{ readonly label: string; readonly text: string }>
  readonly signingKey: SigningPublicKey
  readonly recipientKey: RecipientPrivateKey
  readonly channel: string
  readonly as: string
}

export const runChannelCopy = (request: ChannelCopyRequest) =>
  Effect.gen(function*() {
    const newId = request.as === "auto" ? `c_${randomBytes(9).toString("base64url")}` : request.as // auto: the form of ChatService.newChannelId
    if (!Schema.is(ChannelId)(newId)) return yield* new ChannelIdInvalid({ channelId: newId.slice(0, 80), reason: "not a channel id (1 to 64 of A-Z a-z 0-9 _ . : -)" })
    const copied = yield* copyChannel({ ...request, newId }).pipe(Effect.provide(Database))
    const skipped = copied.skippedMembers.length === 0 ? "" : `; skipped ${copied.skippedMembers.length} members who no longer exist: ${copied.skippedMembers.join(", ")}`
    yield* report(request.json, { ok: true, ...copied }, `copied channel ${copied.channel} of ${copied.backupId} as ${copied.newId}: ${copied.members} members, ${copied.messages} messages${skipped}`)
  }).pipe(Effect.catchTags({
    ChannelIdTaken: failed(request.json),
    ChannelIdInvalid: failed(request.json),
    ChannelNotInBackup: failed(request.json),
    RestoreFailed: failed(request.json),
    ConfigError: (e) => maintenanceFailed(request.json, "channel copy: DATABASE_URL")({ _tag: "ConfigError", message: String(e) })
  }))
