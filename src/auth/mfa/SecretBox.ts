/**
 * Encryption of TOTP secrets at rest: AES-256-GCM (node:crypto) with a
 * 96-bit random IV per secret and the account's user id as additional data,
 * so a sealed secret copied into another account's row does not open.
 *
 * Keys come from `PLEXI_AUTH_MFA_KEYS` (`kid=secret`, the format of the
 * signing keys): each secret is stretched to a 256-bit AES key with
 * HKDF-SHA-256. The first key seals; every listed key opens, found by the
 * key id written in the sealed text:
 * `v1.<kid>.<iv>.<ciphertext>.<tag>` (base64url parts).
 */
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from "node:crypto"
import { Context, Layer, Option } from "effect"
import type { SigningKeys } from "../SigningKeys.ts"

export interface SecretBox {
  /** Seals `plaintext` for `context` (the user id) with the active key. */
  readonly seal: (plaintext: string, context: string) => string
  /** Opens a sealed text of `context`; none when no listed key opens it (unknown key id, tampered, other context). */
  readonly open: (sealed: string, context: string) => Option.Option<string>
  /** Whether `sealed` was sealed with another key than the active one (re-seal it when it is used). */
  readonly isStale: (sealed: string) => boolean
}

const INFO = "plexichat/mfa/totp-secret/v1"

const aesKey = (secret: Uint8Array) => Buffer.from(hkdfSync("sha256", secret, new Uint8Array(0), INFO, 32))

export const makeSecretBox = (keys: SigningKeys): SecretBox => {
  const byKid = new Map(keys.all.map((k) => [k.kid, aesKey(k.secret)] as const))
  const active = keys.active.kid
  const activeKey = byKid.get(active)!

  const seal = (plaintext: string, context: string) => {
    const iv = randomBytes(12)
    const cipher = createCipheriv("aes-256-gcm", activeKey, iv)
    cipher.setAAD(Buffer.from(context, "utf8"))
    const ciphertext = Buffer.concat([cipher.update(plaintext, "utf8"), cipher.final()])
    return ["v1", active, iv.toString("base64url"), ciphertext.toString("base64url"), cipher.getAuthTag().toString("base64url")].join(".")
  }

  const open = (sealed: string, context: string): Option.Option<string> => {
    const parts = sealed.split(".")
    if (parts.length !== 5 || parts[0] !== "v1") return Option.none()
    const key = byKid.get(parts[1]!)
    if (key === undefined) return Option.none()
    try {
      const decipher = createDecipheriv("aes-256-gcm", key, Buffer.from(parts[2]!, "base64url"))
      decipher.setAAD(Buffer.from(context, "utf8"))
      decipher.setAuthTag(Buffer.from(parts[4]!, "base64url"))
      return Option.some(Buffer.concat([decipher.update(Buffer.from(parts[3]!, "base64url")), decipher.final()]).toString("utf8"))
    } catch {
      // A wrong key, a changed byte or another account's row: GCM's tag does not verify.
      return Option.none()
    }
  }

  const isStale = (sealed: string) => sealed.split(".")[1] !== active

  return { seal, open, isStale }
}

/** The node's `SecretBox` for TOTP secrets (built in runtime/Node.ts from `PLEXI_AUTH_MFA_KEYS` or the key file). */
export class MfaSecrets extends Context.Tag("plexichat/MfaSecrets")<MfaSecrets, SecretBox>() {
  static readonly layer = (keys: SigningKeys): Layer.Layer<MfaSecrets> => Layer.sync(MfaSecrets, () => makeSecretBox(keys))
}
