/**
 * An admin lifts the login throttle's locks of an account: its failures,
 * delays and locks from every address (`LoginThrottle.unlock`). Only a
 * signed-in owner or admin may; the role is read from the account store on
 * each call, so a demoted admin cannot.
 */
import type { SqlError } from "@effect/sql/SqlError"
import { Context, Effect, Layer, Option } from "effect"
import { Forbidden, ServiceUnavailable } from "../../domain/Errors.ts"
import type { UserId } from "../../domain/Ids.ts"
import { AccountNotFound, type Unlocked } from "../../domain/LoginProtection.ts"
import type { Caller } from "./AccountKit.ts"
import { AccountStore } from "./AccountStore.ts"
import { LoginThrottle } from "./LoginThrottle.ts"
import { AuditLog } from "../audit/AuditLog.ts"

const make = Effect.gen(function*() {
  const store = yield* AccountStore
  const throttle = yield* LoginThrottle
  const audit = yield* AuditLog
  const stored = <A>(effect: Effect.Effect<A, SqlError>) =>
    Effect.catchTag(effect, "SqlError", (error) =>
      Effect.zipRight(Effect.logError("account store failed", error), Effect.fail(new ServiceUnavailable({ reason: "account store unavailable" }))))

  const unlock = (caller: Caller, userId: UserId): Effect.Effect<Unlocked, Forbidden | AccountNotFound | ServiceUnavailable> =>
    Effect.gen(function*() {
      const actor = yield* stored(store.findByUserId(caller.userId))
      if (Option.isNone(actor) || (actor.value.role !== "owner" && actor.value.role !== "admin")) {
        yield* audit.record({ actor: caller.userId, action: "admin.unlock.denied", target: userId })
        return yield* new Forbidden({ message: "only an owner or an admin may unlock an account" })
      }
      const target = yield* stored(store.findByUserId(userId))
      if (Option.isNone(target)) return yield* new AccountNotFound({ userId, message: "no account has this user id" })
      const cleared = yield* throttle.unlock(target.value.username)
      yield* audit.record({ actor: caller.userId, action: "admin.unlock", target: userId, details: { cleared } })
      yield* Effect.logInfo("account unlocked", { actor: caller.userId, userId, cleared })
      return { userId, cleared }
    })

  return { unlock } as const
})

export class AdminUnlock extends Context.Tag("plexichat/AdminUnlock")<AdminUnlock, Effect.Effect.Success<typeof make>>() {
  static readonly layer = Layer.effect(AdminUnlock, make)
}
