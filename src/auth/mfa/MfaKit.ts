/**
 * What the MFA operations (`MfaChallenge.ts`, `MfaSettings.ts`) share: the
 * account kit, the MFA settings, store and secret box, and the one check of
 * a second-factor code that both sign-in and sensitive changes use.
 */
import { createHash } from "node:crypto"
import type { SqlError } from "@effect/sql/SqlError"
import { Duration, Effect, Option } from "effect"
import { ServiceUnavailable } from "../../../domain/Errors.ts"
import type { UserId } from "../../../domain/Ids.ts"
import type { AccountKit } from "../AccountKit.ts"
import { MfaStore } from "../MfaStore.ts"
import { backupCodeHash, normalizeBackupCode } from "./BackupCodeFormat.ts"
import { MfaConfig } from "./MfaConfig.ts"
import { MfaSecrets } from "./SecretBox.ts"
import { checkTotp, isTotpShaped } from "./TotpCodes.ts"

/** Why a code was refused (`InvalidMfaCode.reason`). */
export type CodeRefusal = "wrong" | "replayed" | "used"

/** A code's outcome: accepted (and consumed), or refused with nothing written. */
export type CodeUse = { readonly _tag: "Accepted" } | { readonly _tag: "Refused"; readonly reason: CodeRefusal }

/** What a refusal says, per reason. */
export const refusalMessages: Record<CodeRefusal, string> = {
  wrong: "this code is not valid",
  replayed: "this code was already used; wait for the next one",
  used: "this backup code was already used"
}

const accepted: CodeUse = { _tag: "Accepted" }
const refused = (reason: CodeRefusal): CodeUse => ({ _tag: "Refused", reason })

export const challengeHashOf = (challenge: string): string => createHash("sha256").update(challenge, "utf8").digest("hex")

/** A stored secret no configured key opens: a configuration fault, not the client's. */
export const unreadableSecret = (userId: UserId) =>
  Effect.zipRight(
    Effect.logError("a TOTP secret cannot be decrypted: is its key still in PLEXI_AUTH_MFA_KEYS?", { userId }),
    Effect.fail(new ServiceUnavailable({ reason: "second factor unavailable" }))
  )

export const makeMfaKit = (kit: AccountKit) =>
  Effect.gen(function*() {
    const config = yield* MfaConfig
    const store = yield* MfaStore
    const box = yield* MfaSecrets
    const challengeTtlMs = Duration.toMillis(config.challengeTtl)

    /** `kit.stored` for effects that may also fail with a domain error of their own. */
    const stored = <A, E extends { readonly _tag: string }>(effect: Effect.Effect<A, E | SqlError>) =>
      Effect.catchTag(effect, "SqlError", (error) =>
        Effect.zipRight(
          Effect.logError("account store failed", error),
          Effect.fail(new ServiceUnavailable({ reason: "account store unavailable" }))
        ))

    /** The plain TOTP secret of a stored row, or `ServiceUnavailable` (logged) when it cannot be opened. */
    const openSecret = (userId: UserId, sealed: string) =>
      Option.match(box.open(sealed, userId), { onNone: () => unreadableSecret(userId), onSome: Effect.succeed })

    /**
     * Checks a TOTP or backup code of `userId` and, when it is good,
     * consumes it with one conditional UPDATE (the step becomes the last
     * used one; the backup code is marked used). A refused code writes
     * nothing. Spaces are ignored; 6 digits are a TOTP code, anything else
     * may be a backup code.
     */
    const useCode = (userId: UserId, code: string, now: number): Effect.Effect<CodeUse, SqlError | ServiceUnavailable> =>
      Effect.gen(function*() {
        const typed = code.replace(/\s/g, "")
        if (isTotpShaped(typed)) {
          const found = yield* store.findTotp(userId)
          if (Option.isNone(found) || !found.value.confirmed) return refused("wrong")
          const totp = found.value
          const secret = yield* openSecret(userId, totp.sealed)
          const check = checkTotp(secret, typed, now, totp.lastUsedStep)
          if (check._tag === "Wrong") return refused("wrong")
          if (check._tag === "Replayed") return refused("replayed")
          // Another request may have used this step since the read: the UPDATE decides, atomically.
          const resealed = box.isStale(totp.sealed) ? box.seal(secret, userId) : undefined
          return (yield* store.useTotpStep(userId, check.step, resealed)) ? accepted : refused("replayed")
        }
        const normalized = normalizeBackupCode(typed)
        if (Option.isNone(normalized)) return refused("wrong")
        switch (yield* store.useBackupCode(userId, backupCodeHash(normalized.value), now)) {
          case "used":
            return accepted
          case "already_used":
            return refused("used")
          case "unknown":
            return refused("wrong")
        }
      })

    return { kit, config, store, box, challengeTtlMs, stored, openSecret, useCode } as const
  })

export type MfaKit = Effect.Effect.Success<ReturnType<typeof makeMfaKit>>
