/**
 * `plexichat backup keys rotate-recipient|rotate-signing` (docs/BACKUPS.md#rotating-keys): every committed backup
 * of the catalog (`DATABASE_URL`) re-wrapped to a new recipient, or signed again with a new signing key, in one
 * transaction (CatalogKeyRotation.ts; the per-manifest crypto in KeyRotation.ts).
 *
 * - `rotate-recipient --key <old recipient .key> --to <new recipient .pub> [--keep-old]`: each backup wrapped to
 *   the old recipient gets its data key wrapped to the new one (the old copy removed unless `--keep-old`) and its
 *   manifest signed again with PLEXI_BACKUP_SIGNING_KEY, after verifying under the configured signing public key;
 *   backups not wrapped to the old recipient are skipped;
 * - `rotate-signing --key <new signing .key> [--old-public <old signing .pub>]`: each manifest verified under the
 *   old public key (default: the configured one) and signed with the new key; those the new key signed are skipped.
 *
 * Both take `--dry-run` (report, write nothing), `--manifest-out <dir>` (a copy of each changed manifest) and
 * `--json`. A failure (a manifest that does not verify, a key that does not open a data key, a backup running, a
 * key file) changes nothing, names the backup and the reason, and exits with status 1; on success the next step for
 * the operator is printed.
 */
import { resolve } from "node:path"
import { Command, Options } from "@effect/cli"
import { Clock, Duration, Effect, Layer, Option } from "effect"
import { BackupConfig, layerFromEnv as backupConfigFromEnv } from "../backup/BackupConfig.ts"
import { recipientFingerprint, recipientPublicOf, signingFingerprint, signingPublicOf } from "../backup/crypto/BackupKeys.ts"
import { type Rotation, resignWith, rewrapWith } from "../backup/crypto/KeyRotation.ts"
import { readKey, recipientPrivate, signingPrivate, verifyKey } from "../backup/job/BackupKeyFiles.ts"
import { KeyRotationFailed, rotateCatalog } from "../backup/job/CatalogKeyRotation.ts"
import * as RetentionConfig from "../backup/retention/RetentionConfig.ts"
import { failed, jsonOption, report } from "./BackupCliSupport.ts"
import { Database } from "./CliDatabase.ts"
import { manifestCopies } from "./RotatedManifestCopies.ts"

const RotationLayer = Layer.mergeAll(Database, backupConfigFromEnv(), RetentionConfig.layerFromEnv())

const common = {
  json: jsonOption,
  dryRun: Options.boolean("dry-run").pipe(Options.withDescription("Report what would change; write nothing.")),
  manifestOut: Options.text("manifest-out").pipe(
    Options.withDescription("Also write each changed manifest to <dir>/<backup id>.manifest (to replace the copies kept off the database)."),
    Options.optional
  )
}

const refuse = (reason: string) => Effect.fail(new KeyRotationFailed({ backup: null, reason }))

/** Runs `rotate` over the catalog, with the copies `--manifest-out` asks for; what changed, skipped and was written. */
const runRotation = (rotate: Rotation, dryRun: boolean, manifestOut: Option.Option<string>) =>
  Effect.gen(function*() {
    const graceMs = Duration.toMillis((yield* RetentionConfig.RetentionConfig).gcGrace)
    const now = yield* Clock.currentTimeMillis
    const copies = Option.map(manifestOut, manifestCopies)
    const rotated = yield* rotateCatalog({ rotate, dryRun, graceMs, now, ...Option.match(copies, { onNone: () => ({}), onSome: (c) => ({ onChanged: c.write }) }) }).pipe(
      // Also on an interrupt (Ctrl-C), which rolls the transaction back too.
      Effect.onError(() => Option.match(copies, { onNone: () => Effect.void, onSome: (c) => c.undo }))
    )
    return { ...rotated, manifestsWritten: Option.match(copies, { onNone: () => [], onSome: (c) => c.written() }) }
  })

const backups = (n: number) => `${n} backup${n === 1 ? "" : "s"}`

type Outcome = Effect.Effect.Success<ReturnType<typeof runRotation>>

/** The human summary: what changed (or would), what was skipped and why, the copies, and the next step. */
const summary = (outcome: Outcome, verb: string, what: string, next: string) =>
  [
    `${outcome.dryRun ? `dry run, nothing written: would have ${verb}` : verb} ${backups(outcome.changed.length)} ${what}${outcome.changed.length > 0 ? `: ${outcome.changed.join(", ")}` : ""}`,
    `skipped ${outcome.skipped.length}${outcome.skipped.map((s) => `\n  ${s.backupId}: ${s.reason}`).join("")}`,
    ...(outcome.manifestsWritten.length > 0 ? [`wrote ${outcome.manifestsWritten.length} manifest copies: ${outcome.manifestsWritten.join(", ")}`] : []),
    ...(outcome.dryRun ? [] : [`next: ${next}`])
  ].join("\n")

const rotateRecipientCommand = Command.make("rotate-recipient", {
  ...common,
  key: Options.text("key").pipe(Options.withDescription("The old recipient's private key file: it opens each backup's data key.")),
  to: Options.text("to").pipe(Options.withDescription("The new recipient's public key file: each data key is wrapped to it.")),
  keepOld: Options.boolean("keep-old").pipe(Options.withDescription("Keep the old recipient's wrapped copy next to the new one."))
}, ({ dryRun, json, keepOld, key, manifestOut, to }) =>
  Effect.gen(function*() {
    const config = yield* BackupConfig
    const fromKey = yield* recipientPrivate(key)
    const toKey = yield* readKey(to, "RecipientPublic")
    const [from, toPrint] = [recipientFingerprint(recipientPublicOf(fromKey)), recipientFingerprint(toKey)]
    if (from === toPrint) return yield* refuse(`--key and --to are the same recipient (${from})`)
    const signWith = yield* signingPrivate(config)
    const verifyWith = yield* verifyKey(config)
    if (signingFingerprint(signingPublicOf(signWith)) !== signingFingerprint(verifyWith)) {
      return yield* refuse(`PLEXI_BACKUP_SIGNING_KEY is not the pair of PLEXI_BACKUP_SIGNING_PUBLIC (${signingFingerprint(verifyWith)}): a manifest signed again would not verify`)
    }
    const outcome = yield* runRotation(rewrapWith({ from: fromKey, to: toKey, keepOld, verifyWith, signWith }), dryRun, manifestOut)
    const next = keepOld
      ? `add ${resolve(to)} to PLEXI_BACKUP_RECIPIENTS on every node and wherever backup create runs, so that new backups are wrapped to it too; replace the manifest copies kept off the database (--manifest-out)`
      : `name ${resolve(to)} in PLEXI_BACKUP_RECIPIENTS instead of the old recipient's public file, on every node and wherever backup create runs (new backups are wrapped to what it names); ` +
        `check a restore with the new private key (backup verify --key <new .key> <id>); replace the manifest copies kept off the database (--manifest-out: older copies still open with the old key); ` +
        `then destroy ${resolve(key)} and its copies`
    const what = `from recipient ${from} to ${toPrint}${keepOld ? " (the old copy kept)" : ""}`
    yield* report(json, { ok: true, dryRun, from, to: toPrint, keptOld: keepOld, rewrapped: outcome.changed, skipped: outcome.skipped, manifestsWritten: outcome.manifestsWritten, ...(dryRun ? {} : { next }) }, summary(outcome, "rewrapped", what, next))
  }).pipe(Effect.catchTags({ KeyRotationFailed: failed(json), KeyRotationBlocked: failed(json), BackupKeyUnavailable: failed(json) }))).pipe(
    Command.withDescription("Re-wraps every backup's data key from an old recipient to a new one and signs the manifests again, in one transaction (--dry-run: only reports)."),
    Command.provide(RotationLayer)
  )

const rotateSigningCommand = Command.make("rotate-signing", {
  ...common,
  key: Options.text("key").pipe(Options.withDescription("The new signing private key file: every manifest is signed with it.")),
  oldPublic: Options.text("old-public").pipe(
    Options.withDescription("The old signing public key file every manifest must verify under (default: PLEXI_BACKUP_SIGNING_PUBLIC, else the public half of PLEXI_BACKUP_SIGNING_KEY)."),
    Options.optional
  )
}, ({ dryRun, json, key, manifestOut, oldPublic }) =>
  Effect.gen(function*() {
    const toKey = yield* readKey(key, "SigningPrivate")
    const fromKey = yield* verifyKey(yield* BackupConfig, Option.getOrUndefined(oldPublic))
    const [from, to] = [signingFingerprint(fromKey), signingFingerprint(signingPublicOf(toKey))]
    if (from === to) return yield* refuse(`--key is the old signing key (${from}); name the new one`)
    const outcome = yield* runRotation(resignWith({ from: fromKey, to: toKey }), dryRun, manifestOut)
    const next = `set PLEXI_BACKUP_SIGNING_KEY=${resolve(key)} on every node and wherever backup commands run, and PLEXI_BACKUP_SIGNING_PUBLIC (where set) to its public file ` +
      `(backup keys export ${resolve(key)} --out <file>); restart the nodes. A backup made before that is signed with the old key: run rotate-signing again with ` +
      `--old-public <old .pub> (it skips what the new key signed); replace the manifest copies kept off the database (--manifest-out); then destroy the old private key`
    yield* report(json, { ok: true, dryRun, from, to, resigned: outcome.changed, skipped: outcome.skipped, manifestsWritten: outcome.manifestsWritten, ...(dryRun ? {} : { next }) }, summary(outcome, "re-signed", `from signing key ${from} to ${to}`, next))
  }).pipe(Effect.catchTags({ KeyRotationFailed: failed(json), KeyRotationBlocked: failed(json), BackupKeyUnavailable: failed(json) }))).pipe(
    Command.withDescription("Verifies every manifest under the old signing key and signs it with the new one, in one transaction (--dry-run: only reports)."),
    Command.provide(RotationLayer)
  )

export const rotateCommands = [rotateRecipientCommand, rotateSigningCommand] as const
