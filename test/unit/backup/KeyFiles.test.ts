/**
 * The key files: every kind decodes to the keys it was written from; another kind or version, a wrong length,
 * padding or a non-canonical base64url character is refused as KeyInvalid without echoing the file.
 */
import { fc, test } from "@fast-check/vitest"
import { describe, expect, it } from "vitest"
import { generateRecipient, generateSigning, recipientFingerprint, recipientPublicOf, signingFingerprint, signingPublicOf } from "../../../src/backup/crypto/BackupKeys.ts"
import { decodeKeyFile, encodeKeyFile, type KeyFileContents } from "../../../src/backup/crypto/KeyFiles.ts"
import { failure, run } from "./Run.ts"

const recipient = generateRecipient()
const signing = generateSigning()
const files: ReadonlyArray<KeyFileContents> = [
  { _tag: "RecipientPublic", key: recipient.publicKey },
  { _tag: "RecipientPrivate", key: recipient.privateKey },
  { _tag: "SigningPublic", key: signing.publicKey },
  { _tag: "SigningPrivate", key: signing.privateKey }
]

describe("key files", () => {
  test.prop([fc.constantFrom(...files)])("decode to the keys they were written from", (contents) => {
    expect(run(decodeKeyFile(encodeKeyFile(contents)))).toEqual(contents)
  })

  it("derive the public halves and fingerprints from the private files", () => {
    expect(recipientPublicOf(recipient.privateKey)).toEqual(recipient.publicKey)
    expect(signingPublicOf(signing.privateKey)).toEqual(signing.publicKey)
    expect(recipientFingerprint(recipient.publicKey)).toMatch(/^[0-9a-f]{64}$/)
    expect(signingFingerprint(signing.publicKey)).not.toBe(recipientFingerprint(recipient.publicKey))
  })

  it("refuse another kind or version, wrong lengths, padding and stray characters", () => {
    const signingFile = JSON.parse(encodeKeyFile(files[3]!))
    const bad = [
      { ...signingFile, version: 2 },
      { ...signingFile, kind: "plexichat.backup.signing.secret" },
      { ...signingFile, ed25519: signingFile.ed25519.slice(1) },
      { ...signingFile, ed25519: `${signingFile.ed25519}=` },
      { ...signingFile, ed25519: `${signingFile.ed25519.slice(0, -1)}+` },
      { kind: "plexichat.backup.recipient.private", version: 1, x25519: signingFile.ed25519 }
    ]
    for (const file of bad) {
      const error = failure(decodeKeyFile(JSON.stringify(file)))
      expect(error._tag).toBe("KeyInvalid")
      expect(error.reason).not.toContain(signingFile.ed25519.slice(0, 12))
    }
    expect(failure(decodeKeyFile("not json"))._tag).toBe("KeyInvalid")
  })
})
