/**
 * The operations behind the admin CLI's RPCs (domain/OperationsRpcs.ts):
 * the cluster view, account and channel listings, account creation by an
 * administrator and ending another account's sessions. Each checks the
 * caller's stored role first (AdminGate.ts); changes are audited.
 */
import { SqlClient } from "@effect/sql"
import { Clock, Effect } from "effect"
import { AccountNotFound } from "../../domain/AdminUsers.ts"
import { EmailTaken, UsernameTaken } from "../../domain/AuthErrors.ts"
import { Forbidden } from "../../domain/Errors.ts"
import type { ChannelId, UserId } from "../../domain/Ids.ts"
import type { ClusterView } from "../../domain/Operations.ts"
import { PROTOCOL_VERSION } from "../../domain/ProtocolVersion.ts"
import { NodeStatus } from "../api/NodeStatus.ts"
import { commitLatencyMs } from "../observability/ChatMetrics.ts"
import { makeLatencyWindow } from "../observability/LatencyWindow.ts"
import { AuditLog } from "../audit/AuditLog.ts"
import { newUserId } from "../auth/AccountKit.ts"
import { Accounts } from "../auth/Accounts.ts"
import { makeAdminGate, unavailable } from "./AdminGate.ts"
import * as ClusterRows from "./store/ClusterRows.ts"
import * as DirectoryRows from "./store/DirectoryRows.ts"

export interface NewAccount {
  readonly username: string
  readonly password: string
  readonly email?: string | undefined
  readonly role: "admin" | "moderator" | "member" | "guest"
}

const make = Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  const audit = yield* AuditLog
  const status = yield* NodeStatus
  const { kit } = yield* Accounts
  const requireAdmin = makeAdminGate(sql, audit)
  const store = unavailable("operations store")
  // The group commit's latency over about the last 10 s, for the status view (`status --watch`).
  const commitLatency = makeLatencyWindow(commitLatencyMs.state, 10_000, yield* Clock.currentTimeMillis)

  const clusterStatus = (caller: UserId) =>
    Effect.gen(function*() {
      yield* requireAdmin(caller, "read the cluster status")
      const health = yield* status.health
      const now = yield* Clock.currentTimeMillis
      const { counts, schemaVersion } = yield* store(ClusterRows.counts(sql, now))
      const nodes = yield* store(health.cluster === "multi"
        ? Effect.map(ClusterRows.runners(sql), (rows) => rows.map((row) => ({ ...row, self: row.address === status.runnerAddress })))
        : Effect.map(ClusterRows.singleRelease(sql, health.nodeId), (release) => [
          { address: health.nodeId, healthy: true, heartbeatAgeMs: 0, shards: health.shards, self: true, ...release }
        ]))
      const { cluster, status: _ok, ...figures } = health
      return {
        mode: cluster,
        protocolVersion: PROTOCOL_VERSION,
        schemaVersion,
        shardsTotal: status.shardsTotal,
        nodes,
        counts,
        answeredBy: { ...figures, commitLatency: commitLatency(now) },
        at: now
      } satisfies ClusterView
    })

  const listAccounts = (caller: UserId, after: string | undefined, limit: number) =>
    Effect.gen(function*() {
      yield* requireAdmin(caller, "list accounts")
      return yield* store(DirectoryRows.listAccounts(sql)(after, limit, yield* Clock.currentTimeMillis))
    })

  const listChannels = (caller: UserId, after: ChannelId | undefined, limit: number) =>
    Effect.zipRight(requireAdmin(caller, "list channels"), store(DirectoryRows.listChannels(sql)(after, limit)))

  const createAccount = (caller: UserId, account: NewAccount) =>
    Effect.gen(function*() {
      const role = yield* requireAdmin(caller, "create accounts")
      if (account.role === "admin" && role !== "owner") {
        yield* audit.record({ actor: caller, action: "admin.ops.denied", details: { operation: "create an admin", reason: "not an owner" } })
        return yield* new Forbidden({ message: "only an owner creates an admin account" })
      }
      yield* kit.policy(account.password, account.username)
      const passwordHash = yield* kit.hasher.hash(account.password)
      const [userId, now] = [newUserId(), yield* Clock.currentTimeMillis]
      const created = yield* store(DirectoryRows.createAccount(sql)({ ...account, email: account.email, userId, passwordHash, now }))
      if (created._tag === "UsernameTaken") return yield* new UsernameTaken({ message: "this username is taken" })
      if (created._tag === "EmailTaken") return yield* new EmailTaken({ message: "an account with this email address exists" })
      yield* Effect.logInfo("account created by an admin", { by: caller, userId, role: account.role })
      yield* audit.record({ actor: caller, action: "admin.account_created", target: userId, details: { username: account.username, role: account.role } })
      const summary = yield* store(DirectoryRows.accountSummary(sql)(userId, now))
      return summary!
    })

  /** Ends every session of `target` (the rules of a password reset: not one's own, an admin never an owner's). */
  const revokeUserSessions = (caller: UserId, target: UserId) =>
    Effect.gen(function*() {
      const allowed = yield* kit.stored(kit.store.adminPrecheck(caller, target, "password"))
      if (allowed._tag !== "Allowed") {
        yield* audit.record({ actor: caller, action: "admin.ops.denied", target, details: { operation: "revoke sessions", reason: allowed._tag } })
        return yield* (allowed._tag === "Forbidden" ? new Forbidden({ message: allowed.message }) : new AccountNotFound({ userId: target }))
      }
      const now = yield* Clock.currentTimeMillis
      const revoked = yield* kit.revoking(kit.stored(kit.store.revokeSessions(target, undefined, now, "admin_revoked")))
      yield* Effect.logInfo("sessions revoked by an admin", { by: caller, userId: target, revokedSessions: revoked })
      yield* audit.record({ actor: caller, action: "admin.sessions_revoked", target, details: { revoked } })
      return { revoked }
    })

  return { clusterStatus, listAccounts, listChannels, createAccount, revokeUserSessions, requireAdmin } as const
})

export class Operations extends Effect.Service<Operations>()("plexichat/Operations", { effect: make }) {}
