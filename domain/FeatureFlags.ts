/**
 * Feature flags: named switches stored in the database (`plexi_feature_flags`),
 * read by every node through a cache that follows changes within
 * `PLEXI_FLAGS_REFRESH` (docs/OPERATIONS.md, "Feature flags"), and changed at
 * runtime by owners and admins (RPC `SetFlag`, REST `PUT /api/v1/admin/flags/:name`,
 * `plexichat flags set`); every change is audited (`admin.flag_set`).
 */
import { Schema } from "effect"

/** A flag's name: 1 to 64 characters, lower-case letters, digits, `.`, `_` and `-`, starting with a letter. */
export const FlagName = Schema.String.pipe(
  Schema.pattern(/^[a-z][a-z0-9._-]{0,63}$/, {
    message: () => "a flag name has 1 to 64 lower-case letters, digits, '.', '_' and '-', and starts with a letter"
  }),
  Schema.brand("FlagName")
)
export type FlagName = typeof FlagName.Type

export const FeatureFlag = Schema.Struct({
  name: FlagName,
  enabled: Schema.Boolean,
  /** When it last changed (ms since the epoch) and by whom (a user id). */
  updatedAt: Schema.Int,
  updatedBy: Schema.NullOr(Schema.String)
})
export type FeatureFlag = typeof FeatureFlag.Type

export const SetFlagRequest = Schema.Struct({ name: FlagName, enabled: Schema.Boolean })

/** A stored flag and whether the answering node's cache has it on yet (false until its next re-read after a change elsewhere). */
export const FlagState = Schema.Struct({ ...FeatureFlag.fields, effectiveHere: Schema.Boolean })
export type FlagState = typeof FlagState.Type
