/**
 * The backup key files: one JSON object per file, `{"kind": …, "version": 1, …}` with the key bytes in unpadded
 * base64url (docs/BACKUPS.md#cryptography). `kind` is one of
 * `plexichat.backup.recipient.public` (`x25519`, `mlkem768`), `plexichat.backup.recipient.private` (`x25519`,
 * `mlkem768Seed`), `plexichat.backup.signing.public` (`ed25519`) and `plexichat.backup.signing.private` (`ed25519`).
 */
import { Effect, Schema } from "effect"
import { Base64UrlBytes, decode, encode } from "./Base64Url.ts"
import { KeyInvalid } from "./BackupCryptoErrors.ts"
import {
  mlkemPublicLength,
  mlkemSeedLength,
  type RecipientPrivateKey,
  type RecipientPublicKey,
  type SigningPrivateKey,
  type SigningPublicKey
} from "./BackupKeys.ts"

const RecipientPublicFile = Schema.Struct({
  kind: Schema.Literal("plexichat.backup.recipient.public"),
  version: Schema.Literal(1),
  x25519: Base64UrlBytes(32),
  mlkem768: Base64UrlBytes(mlkemPublicLength)
})
const RecipientPrivateFile = Schema.Struct({
  kind: Schema.Literal("plexichat.backup.recipient.private"),
  version: Schema.Literal(1),
  x25519: Base64UrlBytes(32),
  mlkem768Seed: Base64UrlBytes(mlkemSeedLength)
})
const SigningPublicFile = Schema.Struct({ kind: Schema.Literal("plexichat.backup.signing.public"), version: Schema.Literal(1), ed25519: Base64UrlBytes(32) })
const SigningPrivateFile = Schema.Struct({ kind: Schema.Literal("plexichat.backup.signing.private"), version: Schema.Literal(1), ed25519: Base64UrlBytes(32) })

const KeyFile = Schema.parseJson(Schema.Union(RecipientPublicFile, RecipientPrivateFile, SigningPublicFile, SigningPrivateFile))

/** A decoded key file, tagged by what it holds. */
export type KeyFileContents =
  | { readonly _tag: "RecipientPublic"; readonly key: RecipientPublicKey }
  | { readonly _tag: "RecipientPrivate"; readonly key: RecipientPrivateKey }
  | { readonly _tag: "SigningPublic"; readonly key: SigningPublicKey }
  | { readonly _tag: "SigningPrivate"; readonly key: SigningPrivateKey }

const line = (value: object) => `${JSON.stringify(value)}\n`

export const encodeKeyFile = (contents: KeyFileContents): string => {
  switch (contents._tag) {
    case "RecipientPublic":
      return line({ kind: "plexichat.backup.recipient.public", version: 1, x25519: encode(contents.key.x25519), mlkem768: encode(contents.key.mlkem768) })
    case "RecipientPrivate":
      return line({ kind: "plexichat.backup.recipient.private", version: 1, x25519: encode(contents.key.x25519), mlkem768Seed: encode(contents.key.mlkem768Seed) })
    case "SigningPublic":
      return line({ kind: "plexichat.backup.signing.public", version: 1, ed25519: encode(contents.key.ed25519) })
    case "SigningPrivate":
      return line({ kind: "plexichat.backup.signing.private", version: 1, ed25519: encode(contents.key.ed25519) })
  }
}

/** Parses a key file; anything else (another kind or version, a wrong length) is `KeyInvalid`, naming no key bytes. */
export const decodeKeyFile = (text: string): Effect.Effect<KeyFileContents, KeyInvalid> =>
  Schema.decodeUnknown(KeyFile)(text.trim()).pipe(
    Effect.mapError(() => new KeyInvalid({ reason: "not a PlexiChat backup key file (kind and version 1, fields in unpadded base64url of the right lengths)" })),
    Effect.map((file): KeyFileContents => {
      switch (file.kind) {
        case "plexichat.backup.recipient.public":
          return { _tag: "RecipientPublic", key: { x25519: decode(file.x25519), mlkem768: decode(file.mlkem768) } }
        case "plexichat.backup.recipient.private":
          return { _tag: "RecipientPrivate", key: { x25519: decode(file.x25519), mlkem768Seed: decode(file.mlkem768Seed) } }
        case "plexichat.backup.signing.public":
          return { _tag: "SigningPublic", key: { ed25519: decode(file.ed25519) } }
        case "plexichat.backup.signing.private":
          return { _tag: "SigningPrivate", key: { ed25519: decode(file.ed25519) } }
      }
    })
  )
