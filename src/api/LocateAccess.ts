/**
 * Who may locate a channel (`GET /api/v1/cluster/channels/:channelId`): the
 * channel must exist, and a private one must have the caller among its
 * members; otherwise the answer is `ChannelNotFound`, the same for a
 * missing channel and a private one (which stays invisible). The caller is
 * the user of the bearer token when one is sent (a bad token is
 * `Unauthorized`); without one, nobody (public channels only). The check
 * reads the channel's rows, which its entity writes, instead of waking the
 * entity: locating is a diagnostic that must also answer while the channel's
 * shard moves.
 */
import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import { SqlClient } from "@effect/sql"
import { Effect, Option } from "effect"
import { ChannelNotFound, ServiceUnavailable } from "../../domain/Errors.ts"
import type { ChannelId } from "../../domain/Ids.ts"
import { AuditLog } from "../audit/AuditLog.ts"
import { TokenVerifier } from "../auth/TokenVerifier.ts"

export const makeLocateAccess = Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  const tokens = yield* TokenVerifier
  const audit = yield* AuditLog

  const callerOf = Effect.flatMap(HttpServerRequest.HttpServerRequest, (request) => {
    const header = request.headers["authorization"]
    return header === undefined ? Effect.succeed(Option.none<string>()) : Effect.map(tokens.verifyHeader(header), (c) => Option.some<string>(c.userId))
  })

  return (channelId: ChannelId) =>
    Effect.gen(function*() {
      const caller = yield* callerOf
      const rows = yield* sql<{ visibility: string; member: boolean }>`
        SELECT c.visibility, EXISTS (
          SELECT 1 FROM plexi_channel_members m WHERE m.channel_id = c.id AND m.user_id = ${Option.getOrElse(caller, () => "")}
        ) AS member
        FROM plexi_channels c WHERE c.id = ${channelId}`.pipe(
        Effect.catchTag("SqlError", (error) =>
          Effect.zipRight(Effect.logWarning("locate: channel lookup failed", error), Effect.fail(new ServiceUnavailable({ reason: "channel store unavailable" }))))
      )
      const row = rows[0]
      if (row === undefined) return yield* new ChannelNotFound({ channelId })
      if (row.visibility === "private" && !row.member) {
        yield* audit.record({ actor: Option.getOrNull(caller), action: "channel.locate.denied", target: channelId, details: { error: "ChannelNotFound" } })
        return yield* new ChannelNotFound({ channelId })
      }
    })
})
