/**
 * The rules a new password must meet (registration, password change, a
 * first password and an admin reset),
 * each failing with a typed `WeakPassword` that names the rule:
 * - `too_short` / `too_long`: fewer than `PLEXI_AUTH_PASSWORD_MIN_LENGTH`
 *   or more than `PLEXI_AUTH_PASSWORD_MAX_LENGTH` characters (code points);
 * - `matches_username`: the username itself, in any case;
 * - `common`: in the bundled list (`CommonPasswords.txt`) in any case, also
 *   with digits and punctuation appended (`Password2024!`), or one
 *   character repeated.
 */
import { readFileSync } from "node:fs"
import { join } from "node:path"
import { Effect } from "effect"
import { WeakPassword } from "../../domain/AuthErrors.ts"

export interface PasswordRules {
  readonly minLength: number
  readonly maxLength: number
}

/** The bundled list, one password a line (`#` starts a comment), in lower case. */
export const loadCommonPasswords = (): ReadonlySet<string> =>
  new Set(
    readFileSync(join(import.meta.dirname, "CommonPasswords.txt"), "utf8")
      .split("\n")
      .map((line) => line.trim().toLowerCase())
      .filter((line) => line.length > 0 && !line.startsWith("#"))
  )

const trailingDecoration = /[\d\s!@#$%^&*()_+\-=.,?~]+$/

const weak = (reason: WeakPassword["reason"], message: string) => Effect.fail(new WeakPassword({ reason, message }))

export const makePasswordPolicy = (rules: PasswordRules, common: ReadonlySet<string>) =>
  (password: string, username: string): Effect.Effect<void, WeakPassword> => {
    const length = [...password].length
    if (length < rules.minLength) return weak("too_short", `a password has at least ${rules.minLength} characters`)
    if (length > rules.maxLength) return weak("too_long", `a password has at most ${rules.maxLength} characters`)
    const lower = password.toLowerCase()
    if (lower === username.toLowerCase()) return weak("matches_username", "a password must not be the username")
    const base = lower.replace(trailingDecoration, "")
    if (common.has(lower) || (base.length >= 4 && common.has(base)) || new Set(lower).size === 1) {
      return weak("common", "this password is too common (it is in a list of the most used passwords); choose another")
    }
    return Effect.void
  }

export type PasswordPolicy = ReturnType<typeof makePasswordPolicy>
