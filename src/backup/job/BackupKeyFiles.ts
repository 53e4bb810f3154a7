/**
 * The backup keys a job or a restore needs, read from the key files the configuration or the command line names
 * (KeyFiles.ts formats). A missing, unreadable or wrong-kind file is `BackupKeyUnavailable` naming the file; no
 * key bytes are ever part of an error.
 */
import { readFile } from "node:fs/promises"
import { Effect, Option } from "effect"
import { BackupKeyUnavailable } from "../../../domain/Backup.ts"
import type { BackupConfigShape } from "../BackupConfig.ts"
import { type RecipientPrivateKey, type RecipientPublicKey, type SigningPrivateKey, type SigningPublicKey, signingPublicOf } from "../crypto/BackupKeys.ts"
import { decodeKeyFile, type KeyFileContents } from "../crypto/KeyFiles.ts"

type Tag = KeyFileContents["_tag"]
type KeyOf<T extends Tag> = Extract<KeyFileContents, { readonly _tag: T }>["key"]

const what: Record<Tag, string> = {
  RecipientPublic: "a recipient public key file",
  RecipientPrivate: "a recipient private key file",
  SigningPublic: "a signing public key file",
  SigningPrivate: "a signing private key file"
}

/** The key in `file`, which must hold a key of kind `tag`. */
export const readKey = <T extends Tag>(file: string, tag: T): Effect.Effect<KeyOf<T>, BackupKeyUnavailable> =>
  Effect.tryPromise({
    try: () => readFile(file, "utf8"),
    catch: (e) => new BackupKeyUnavailable({ file, reason: `cannot read it: ${(e as NodeJS.ErrnoException)?.code ?? String(e)}` })
  }).pipe(
    Effect.flatMap((text) => Effect.mapError(decodeKeyFile(text), (e) => new BackupKeyUnavailable({ file, reason: e.reason }))),
    Effect.filterOrFail(
      (contents): contents is Extract<KeyFileContents, { readonly _tag: T }> => contents._tag === tag,
      (contents) => new BackupKeyUnavailable({ file, reason: `${what[contents._tag]}, not ${what[tag]}` })
    ),
    Effect.map((contents) => contents.key as KeyOf<T>)
  )

/** What making a backup needs: every recipient's public key and the signing key. */
export interface CreateKeys {
  readonly recipients: ReadonlyArray<RecipientPublicKey>
  readonly signing: SigningPrivateKey
}

export const createKeys = (config: BackupConfigShape): Effect.Effect<CreateKeys, BackupKeyUnavailable> =>
  Effect.gen(function*() {
    if (config.recipients.length === 0) {
      return yield* Effect.fail(new BackupKeyUnavailable({ file: "PLEXI_BACKUP_RECIPIENTS", reason: "no recipient public key file is configured" }))
    }
    const signingFile = yield* signingKeyFile(config)
    const recipients = yield* Effect.forEach(config.recipients, (file) => readKey(file, "RecipientPublic"))
    return { recipients, signing: yield* readKey(signingFile, "SigningPrivate") }
  })

/** PLEXI_BACKUP_SIGNING_KEY's path, or why there is none. */
const signingKeyFile = (config: BackupConfigShape): Effect.Effect<string, BackupKeyUnavailable> =>
  Option.isNone(config.signingKey)
    ? Effect.fail(new BackupKeyUnavailable({ file: "PLEXI_BACKUP_SIGNING_KEY", reason: "no signing key file is configured" }))
    : Effect.succeed(config.signingKey.value)

/** The cluster's signing key (PLEXI_BACKUP_SIGNING_KEY), which signs manifests. */
export const signingPrivate = (config: BackupConfigShape): Effect.Effect<SigningPrivateKey, BackupKeyUnavailable> =>
  Effect.flatMap(signingKeyFile(config), (file) => readKey(file, "SigningPrivate"))

/** The key manifests must be signed with: `signingPublic`, else the public half of `signingKey`. */
export const verifyKey = (config: BackupConfigShape, override?: string): Effect.Effect<SigningPublicKey, BackupKeyUnavailable> => {
  const file = override ?? Option.getOrUndefined(config.signingPublic)
  if (file !== undefined) return readKey(file, "SigningPublic")
  if (Option.isSome(config.signingKey)) return Effect.map(readKey(config.signingKey.value, "SigningPrivate"), signingPublicOf)
  return Effect.fail(new BackupKeyUnavailable({ file: "PLEXI_BACKUP_SIGNING_PUBLIC", reason: "no signing public key file is configured" }))
}

/** A recipient's private key, to open a backup's data key. */
export const recipientPrivate = (file: string): Effect.Effect<RecipientPrivateKey, BackupKeyUnavailable> => readKey(file, "RecipientPrivate")
