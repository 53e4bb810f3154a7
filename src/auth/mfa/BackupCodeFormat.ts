/**
 * Backup codes: ten one-time codes of 80 random bits each, written as 16
 * Crockford base32 characters in groups of four (`7q2m-k9xd-...`). Typing
 * ignores case, spaces and dashes, and reads `o` as `0` and `i`/`l` as `1`.
 *
 * Stored as the SHA-256 (hex) of the normalised code, unkeyed and unsalted:
 * the codes are random with 80 bits of entropy, so a slow password hash
 * buys nothing. Finding one code from a stolen hash takes about 2^79
 * SHA-256 evaluations (millions of GPU-years), and no two accounts can
 * share a precomputed table because no table of 2^80 entries exists. A
 * plain digest also keeps the lookup a single indexed equality, which makes
 * "mark used" one atomic UPDATE (docs/SECURITY.md, "Backup codes").
 */
import { createHash, randomBytes } from "node:crypto"
import { Option } from "effect"

export const BACKUP_CODE_COUNT = 10

const ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"
const BACKUP_CODE_LENGTH = 16

/** 10 random bytes (80 bits) as 16 base32 characters, grouped by four. */
export const newBackupCode = (): string => {
  const bytes = randomBytes(10)
  let bits = 0n
  for (const byte of bytes) bits = (bits << 8n) | BigInt(byte)
  let text = ""
  for (let i = BACKUP_CODE_LENGTH - 1; i >= 0; i--) text += ALPHABET[Number((bits >> BigInt(i * 5)) & 31n)]
  return text.match(/.{4}/g)!.join("-")
}

/** The canonical form of a typed backup code, or none when it cannot be one. */
export const normalizeBackupCode = (typed: string): Option.Option<string> => {
  const text = typed.toLowerCase().replace(/[\s-]/g, "").replace(/o/g, "0").replace(/[il]/g, "1")
  return text.length === BACKUP_CODE_LENGTH && [...text].every((c) => ALPHABET.includes(c)) ? Option.some(text) : Option.none()
}

/** What the store keeps of a (normalised) backup code. */
export const backupCodeHash = (normalized: string): string => createHash("sha256").update(normalized, "utf8").digest("hex")
