/**
 * The parent of a new incremental backup: the newest committed backup of the catalog, its manifest verified under
 * the cluster's signing key, and the row filter after its high-water marks (Incremental.ts).
 */
import { Effect, Option, Schema } from "effect"
import { BackupFailed } from "../../../domain/Backup.ts"
import { type SigningPrivateKey, signingPublicOf } from "../crypto/BackupKeys.ts"
import { verifyManifest } from "../crypto/ManifestSigning.ts"
import { afterHighWater } from "../snapshot/Incremental.ts"
import * as Catalog from "./BackupCatalog.ts"

const Details = Schema.Struct({
  highWater: Schema.Struct({ auditSeq: Schema.Number, channelSeq: Schema.Record({ key: Schema.String, value: Schema.Number }) })
})

export const latestParent = (signing: SigningPrivateKey) =>
  Effect.gen(function*() {
    const latest = yield* Effect.mapError(Catalog.latestCommitted, (e) => new BackupFailed({ backupId: "", reason: `catalog: ${e.message}` }))
    if (Option.isNone(latest)) return yield* Effect.fail(new BackupFailed({ backupId: "", reason: "no committed backup to be the parent of an incremental" }))
    const id = latest.value.entry.id
    const refused = (reason: string) => new BackupFailed({ backupId: id, reason: `the parent's manifest: ${reason}` })
    const manifest = yield* Effect.mapError(verifyManifest(latest.value.manifest, signingPublicOf(signing)), (e) => refused(e._tag))
    const details = yield* Effect.mapError(Schema.decodeUnknown(Details)(manifest.details), () => refused("no high-water marks"))
    return { id, filter: afterHighWater(details.highWater), highWater: details.highWater }
  })
