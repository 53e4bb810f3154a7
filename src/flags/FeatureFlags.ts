/**
 * Feature flags (domain/FeatureFlags.ts), read through a per-node cache.
 *
 * The node loads every flag at start and re-reads the table every
 * `PLEXI_FLAGS_REFRESH` (2 s): a change made on any node is seen by every
 * node within that interval (plus one query), and at once on the node that
 * made it. `isEnabled` answers from the cache, never waits, and is false for
 * a flag never set. A failed re-read is logged and the cache kept; the next
 * round tries again. `set` writes the flag and its audit entry
 * (`admin.flag_set`) in one transaction.
 */
import { SqlClient } from "@effect/sql"
import type { SqlError } from "@effect/sql/SqlError"
import { Clock, Context, Effect, Layer, Schedule } from "effect"
import type { FeatureFlag, FlagName } from "../../domain/FeatureFlags.ts"
import { AuditLog } from "../audit/AuditLog.ts"
import { FlagsConfig } from "./FlagsConfig.ts"
import * as FlagRows from "./FlagRows.ts"

export interface FeatureFlagsShape {
  /** Whether the flag is on, as this node last read it (false when it was never set). */
  readonly isEnabled: (name: string) => boolean
  /** Every flag as stored now. */
  readonly list: Effect.Effect<ReadonlyArray<FeatureFlag>, SqlError>
  /** Turns the flag on or off (creating it), audited; this node's cache has it at once. */
  readonly set: (name: FlagName, enabled: boolean, by: string) => Effect.Effect<FeatureFlag, SqlError>
  /** Re-reads every flag now. */
  readonly refresh: Effect.Effect<void, SqlError>
}

export class FeatureFlags extends Context.Tag("plexichat/FeatureFlags")<FeatureFlags, FeatureFlagsShape>() {
  static readonly layer = Layer.scoped(
    FeatureFlags,
    Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      const audit = yield* AuditLog
      const { refresh: every } = yield* FlagsConfig
      let cache = new Map<string, boolean>()
      const load = (flags: ReadonlyArray<FeatureFlag>) => {
        cache = new Map(flags.map((f) => [f.name, f.enabled]))
      }
      const refresh = Effect.map(FlagRows.all(sql), load)
      yield* refresh
      yield* refresh.pipe(
        Effect.catchAll((error) => Effect.logWarning("feature flags re-read failed", error)),
        Effect.repeat(Schedule.spaced(every)),
        Effect.delay(every),
        Effect.forkScoped
      )
      const set = (name: FlagName, enabled: boolean, by: string) =>
        Effect.gen(function*() {
          const now = yield* Clock.currentTimeMillis
          const { flag } = yield* sql.withTransaction(Effect.tap(FlagRows.set(sql)(name, enabled, by, now), ({ previous }) =>
            audit.appendIn([{ actor: by, action: "admin.flag_set", target: name, details: { enabled, previous: previous ?? null } }])))
          cache = new Map(cache).set(flag.name, flag.enabled)
          yield* Effect.logInfo("feature flag set", { name, enabled, by })
          return flag
        })
      return FeatureFlags.of({ isEnabled: (name) => cache.get(name) === true, list: FlagRows.all(sql), set, refresh })
    })
  )
}
