/**
 * The audit log as clients see it: one entry per security event (sign-ins
 * and failures, registrations, session revocations, password and role
 * changes, denied actions, admin operations), in one hash chain. Owners and
 * admins query it (`GET /api/v1/admin/audit`, the `QueryAudit` RPC, the
 * `plexichat audit query` CLI); everyone else gets `Forbidden`.
 */
import * as HttpApiEndpoint from "@effect/platform/HttpApiEndpoint"
import * as HttpApiGroup from "@effect/platform/HttpApiGroup"
import * as OpenApi from "@effect/platform/OpenApi"
import { Schema } from "effect"
import { Forbidden, ServiceUnavailable } from "./Errors.ts"

/** One audit entry. `seq` is gap-free; `hash` covers the entry's fields and `prevHash` (the previous entry's hash). */
export const AuditEntry = Schema.Struct({
  seq: Schema.Number,
  at: Schema.Number,
  actor: Schema.NullOr(Schema.String),
  action: Schema.String,
  target: Schema.NullOr(Schema.String),
  ip: Schema.NullOr(Schema.String),
  node: Schema.String,
  details: Schema.Unknown,
  prevHash: Schema.String,
  hash: Schema.String
})
export type AuditEntry = typeof AuditEntry.Type

/**
 * The newest entry of the chain: its `seq`, `hash` and time (`at`, null
 * for an empty log, whose `seq` is 0 and `hash` 64 zeros). Copy
 * `<seq>:<hash>` somewhere the database's administrators cannot write:
 * `plexichat audit verify --anchor <seq>:<hash>` later fails if the log no
 * longer holds that row with that hash (cut off, or rewritten).
 */
export const AuditHead = Schema.Struct({ seq: Schema.Number, hash: Schema.String, at: Schema.NullOr(Schema.Number) })
export type AuditHead = typeof AuditHead.Type

const Filter = Schema.String.pipe(Schema.minLength(1), Schema.maxLength(64))

/** A time or seq bound: a non-negative integer (milliseconds since the epoch for times). */
const Bound = Schema.Int.pipe(Schema.nonNegative(), Schema.lessThanOrEqualTo(Number.MAX_SAFE_INTEGER))

/**
 * What to list: entries of `actor`, with `action`, at or after `since` and
 * before `until` (ms since the epoch), with a seq above `afterSeq` (for
 * paging), oldest first, at most `limit` (1 to 1000, default 100).
 */
export const AuditQuery = Schema.Struct({
  actor: Schema.optional(Filter),
  action: Schema.optional(Filter),
  since: Schema.optional(Bound),
  until: Schema.optional(Bound),
  afterSeq: Schema.optional(Bound),
  limit: Schema.optional(Schema.Int.pipe(Schema.between(1, 1000)))
})
export type AuditQuery = typeof AuditQuery.Type

/** The REST form of `AuditQuery`: the same fields as query parameters (integers as decimal strings). */
const IntParam = (target: Schema.Schema<number>) => Schema.compose(Schema.NumberFromString, target)
export const AuditQueryParams = Schema.Struct({
  actor: Schema.optionalWith(Filter, { exact: true }),
  action: Schema.optionalWith(Filter, { exact: true }),
  since: Schema.optionalWith(IntParam(Bound), { exact: true }),
  until: Schema.optionalWith(IntParam(Bound), { exact: true }),
  afterSeq: Schema.optionalWith(IntParam(Bound), { exact: true }),
  limit: Schema.optionalWith(IntParam(Schema.Int.pipe(Schema.between(1, 1000))), { exact: true })
})

/** Admin REST operations on the audit log (an access token of a workspace owner or admin). */
export class AuditApi extends HttpApiGroup.make("audit")
  .add(
    HttpApiEndpoint.get("query", "/admin/audit")
      .setUrlParams(AuditQueryParams)
      .addSuccess(Schema.Array(AuditEntry))
      .addError(Forbidden)
      .addError(ServiceUnavailable)
      .annotate(OpenApi.Description, "Audit entries by actor, action and time, oldest first; owners and admins only (others: 403 Forbidden, audited).")
  )
  .add(
    HttpApiEndpoint.get("head", "/admin/audit/head")
      .addSuccess(AuditHead)
      .addError(Forbidden)
      .addError(ServiceUnavailable)
      .annotate(
        OpenApi.Description,
        "The newest entry's seq, hash and time, to anchor the chain outside the database (plexichat audit verify " +
          "--anchor <seq>:<hash>); owners and admins only (others: 403 Forbidden, audited)."
      )
  )
{}
