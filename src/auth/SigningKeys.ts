/**
 * The access-token signing keys, as `PLEXI_AUTH_SIGNING_KEYS` spells them:
 * `kid=secret` entries separated by commas. The first entry signs new
 * tokens; every entry verifies, so a key that was replaced keeps verifying
 * the tokens it signed until they expire (docs/SECURITY.md, "Rotating the
 * signing keys"). Secrets are HMAC-SHA-256 keys of at least 32 characters.
 */
import { randomBytes } from "node:crypto"
import { Either } from "effect"

export interface SigningKey {
  /** The JWT header's `kid`: 1 to 64 letters, digits, `_` or `-`. */
  readonly kid: string
  readonly secret: Uint8Array
}

/** The active key (first) and the ones that only verify, in the configured order. */
export interface SigningKeys {
  readonly active: SigningKey
  readonly all: ReadonlyArray<SigningKey>
}

export const MIN_SECRET_LENGTH = 32

const kidPattern = /^[A-Za-z0-9_-]{1,64}$/

const encoder = new TextEncoder()

/** One random key (a node of its own, when none is configured): its tokens do not survive a restart. */
export const randomSigningKeys = (): SigningKeys => {
  const active = { kid: `node-${randomBytes(6).toString("base64url")}`, secret: new Uint8Array(randomBytes(32)) }
  return { active, all: [active] }
}

/** Parses the variable's value; the error is a sentence that never contains a secret. */
export const parseSigningKeys = (text: string, name: string): Either.Either<SigningKeys, string> => {
  const entries = text.split(",").map((e) => e.trim()).filter((e) => e.length > 0)
  if (entries.length === 0) return Either.left(`${name} must list at least one key as kid=secret`)
  const keys: Array<SigningKey> = []
  for (const [i, entry] of entries.entries()) {
    const eq = entry.indexOf("=")
    if (eq < 0) return Either.left(`${name}: entry ${i + 1} is not kid=secret`)
    const kid = entry.slice(0, eq)
    const secret = entry.slice(eq + 1)
    if (!kidPattern.test(kid)) {
      return Either.left(`${name}: entry ${i + 1} has a key id that is not 1 to 64 letters, digits, '_' or '-'`)
    }
    if (secret.length < MIN_SECRET_LENGTH) {
      return Either.left(`${name}: the secret of key ${kid} is shorter than ${MIN_SECRET_LENGTH} characters`)
    }
    if (keys.some((k) => k.kid === kid)) return Either.left(`${name}: key id ${kid} is listed twice`)
    keys.push({ kid, secret: encoder.encode(secret) })
  }
  return Either.right({ active: keys[0]!, all: keys })
}
