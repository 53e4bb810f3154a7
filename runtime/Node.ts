/**
 * Layer composition of one PlexiChat node: store, cluster runner, entities,
 * the edge's hub and outbox, and the uWS edge on the public port.
 */
import { join } from "node:path"
import { ShardingConfig } from "@effect/cluster"
import { Duration, Effect, Layer, Option, Redacted } from "effect"
import { ChatService } from "../src/api/ChatService.ts"
import { RateLimiter } from "../src/api/RateLimiter.ts"
import { AuditLog } from "../src/audit/AuditLog.ts"
import * as UserBudgetConfig from "../src/api/UserBudgetConfig.ts"
import { UserBudgets } from "../src/api/UserBudgets.ts"
import { AccessTokens } from "../src/auth/AccessTokens.ts"
import { Accounts } from "../src/auth/Accounts.ts"
import { AdminUnlock } from "../src/auth/AdminUnlock.ts"
import { AccountStore } from "../src/auth/AccountStore.ts"
import { Oidc } from "../src/auth/oidc/Oidc.ts"
import * as OidcConfig from "../src/auth/oidc/OidcConfig.ts"
import * as AuthConfig from "../src/auth/AuthConfig.ts"
import * as MfaConfig from "../src/auth/mfa/MfaConfig.ts"
import { loadOrCreateMfaKeyFile } from "../src/auth/mfa/MfaKeyFile.ts"
import { MfaSecrets } from "../src/auth/mfa/SecretBox.ts"
import { MfaStore } from "../src/auth/MfaStore.ts"
import * as RevocationConfig from "../src/auth/RevocationConfig.ts"
import { revocationCheck, Revocations } from "../src/auth/Revocations.ts"
import { LoginThrottle } from "../src/auth/LoginThrottle.ts"
import * as LoginThrottleConfig from "../src/auth/LoginThrottleConfig.ts"
import { randomSigningKeys } from "../src/auth/SigningKeys.ts"
import { TokenVerifier } from "../src/auth/TokenVerifier.ts"
import { warnRetiredSettings } from "../src/config/RetiredSettings.ts"
import { WebAuthn } from "../src/auth/WebAuthn.ts"
import * as WebAuthnConfig from "../src/auth/WebAuthnConfig.ts"
import { WebAuthnStore } from "../src/auth/WebAuthnStore.ts"
import * as ChannelConfig from "../src/entities/ChannelConfig.ts"
import { ChannelEntityLive } from "../src/entities/ChannelEntity.ts"
import { ShardRelease } from "../src/entities/ShardRelease.ts"
import { UserEntityLive } from "../src/entities/UserEntity.ts"
import { ChannelHub } from "../src/messaging/ChannelHub.ts"
import { GroupCommitWriter } from "../src/messaging/GroupCommitWriter.ts"
import { LocalChannels } from "../src/messaging/LocalChannels.ts"
import * as HubConfig from "../src/messaging/HubConfig.ts"
import { MessageStore } from "../src/messaging/MessageStore.ts"
import { PostOutbox } from "../src/messaging/PostOutbox.ts"
import { FeatureFlags } from "../src/flags/FeatureFlags.ts"
import * as FlagsConfig from "../src/flags/FlagsConfig.ts"
import { Operations } from "../src/operations/Operations.ts"
import { RoleChange } from "../src/roles/RoleChange.ts"
import { WorkspaceRoles } from "../src/roles/WorkspaceRoles.ts"
import * as ShardMaintenance from "../src/backup/scrub/ShardMaintenance.ts"
import * as ShardMaintenanceSchedule from "../src/backup/scrub/ShardMaintenanceSchedule.ts"
import * as BackupConfig from "../src/backup/BackupConfig.ts"
import * as BackupRetention from "../src/backup/retention/BackupRetention.ts"
import * as RetentionConfig from "../src/backup/retention/RetentionConfig.ts"
import * as ClusterBackupShards from "../src/backup/store/ClusterBackupShards.ts"
import * as ShardStoreConfig from "../src/backup/store/ShardStoreConfig.ts"
import * as BackupJobConfig from "../src/backup/job/BackupJobConfig.ts"
import * as BackupJobRunner from "../src/backup/job/BackupJobRunner.ts"
import * as BackupSchedule from "../src/backup/job/BackupSchedule.ts"
import * as BackupScheduleConfig from "../src/backup/job/BackupScheduleConfig.ts"
import * as LastSuccessGauge from "../src/backup/job/LastSuccessGauge.ts"
import * as Cluster from "./cluster/Cluster.ts"
import * as ClusterConfig from "./cluster/ClusterConfig.ts"
import * as PortFile from "./cluster/PortFile.ts"
import * as RunnerSocket from "./cluster/RunnerSocket.ts"
import * as ShardStorePeers from "./cluster/ShardStorePeers.ts"
import { EdgeLive, FanOutLive, NodeId, UwsApp } from "./edge/Edge.ts"
import { NodeReleaseLive } from "./NodeRelease.ts"
import { NodeStatusLive } from "./NodeStatusLive.ts"
import { Draining } from "./Draining.ts"
import * as LifecycleConfig from "./LifecycleConfig.ts"
import * as ShutdownDeadline from "./ShutdownDeadline.ts"
import * as EdgeConfig from "./edge/EdgeConfig.ts"
import * as HardeningConfig from "./edge/HardeningConfig.ts"
import * as HttpConfig from "./edge/HttpConfig.ts"
import * as WsConfig from "./edge/WsConfig.ts"
import * as Database from "./sql/Database.ts"
import * as DatabaseConfig from "./sql/DatabaseConfig.ts"
import { migrate } from "./sql/Migrations.ts"
import * as SnapshotSourceLive from "./sql/SnapshotSourceLive.ts"
import * as TelemetryConfig from "./telemetry/TelemetryConfig.ts"
import { runtimeSampler } from "./telemetry/RuntimeSampler.ts"
import { OtlpExportLive } from "./telemetry/OtlpExport.ts"
import { MetricsServerLive } from "./telemetry/MetricsRoute.ts"

/** The store, migrated (one node at a time) before anything else uses it. */
const StoreLive = Layer.unwrapEffect(Effect.map(
  Effect.zip(DatabaseConfig.DatabaseConfig, ClusterConfig.ClusterConfig),
  ([store, cluster]) => {
    const postgres = DatabaseConfig.onPostgres(store)
    return Layer.effectDiscard(migrate({ runnerTables: postgres, lock: postgres })).pipe(
      Layer.provide(ShardingConfig.layer(Cluster.shardingConfig(cluster))),
      Layer.provideMerge(Database.layer)
    )
  }
))

const NodeIdLive = Layer.effect(NodeId, Effect.map(EdgeConfig.EdgeConfig, EdgeConfig.nodeIdOf))

/**
 * The access-token keys: the configured ones, or on a single node without
 * them a random key made now (tokens then do not survive a restart; clients
 * refresh, which needs no access token).
 */
const AccessTokensLive = Layer.unwrapEffect(Effect.gen(function*() {
  const config = yield* AuthConfig.AuthConfig
  const keys = yield* Option.match(config.signingKeys, {
    onSome: Effect.succeed,
    onNone: () =>
      Effect.as(
        Effect.logWarning("PLEXI_AUTH_SIGNING_KEYS is not set: signing access tokens with a random key made at start"),
        Redacted.make(randomSigningKeys())
      )
  })
  return AccessTokens.layer({ keys, ttlMs: Duration.toMillis(config.accessTtl) })
}))

/** The token check of every door: access tokens (the only kind there is), then the revocations. */
const TokenVerifierLive = Layer.effect(
  TokenVerifier,
  Effect.map(Effect.zip(AccessTokens, Revocations), ([access, revocations]) =>
    TokenVerifier.make([AccessTokens.kind(access)], revocationCheck(revocations)))
)

/** Revocations: polled from the store when other nodes share it (Postgres); an embedded node reads its own. */
const RevocationsLive = Layer.unwrapEffect(Effect.map(DatabaseConfig.DatabaseConfig, (store) =>
  Revocations.layer({ poll: DatabaseConfig.onPostgres(store) })))

/**
 * The key of TOTP secrets at rest: the configured keys, or on a single
 * embedded node without them its own key, kept in its data directory (a
 * random key per start would lock every authenticator out at a restart).
 */
const MfaSecretsLive = Layer.unwrapEffect(Effect.gen(function*() {
  const config = yield* MfaConfig.MfaConfig
  const store = yield* DatabaseConfig.DatabaseConfig
  const keys = yield* Option.match(config.keys, {
    onSome: (keys) => Effect.succeed(Redacted.value(keys)),
    onNone: () => loadOrCreateMfaKeyFile(join(store.dataDir, "mfa-keys"))
  })
  return MfaSecrets.layer(keys)
}))

const AuthLive = Layer.mergeAll(TokenVerifierLive, Oidc.layer, WebAuthn.layer, AdminUnlock.layer).pipe(
  Layer.provideMerge(Accounts.layer),
  Layer.provideMerge(Layer.mergeAll(AccessTokensLive, RevocationsLive)),
  Layer.provide(LoginThrottle.layer),
  Layer.provide(Layer.mergeAll(AccountStore.Default, MfaStore.Default, MfaSecretsLive, WebAuthnStore.Default))
)

const WriterLive = Layer.unwrapEffect(Effect.map(Effect.zip(ChannelConfig.ChannelConfig, Database.Database), ([config, db]) =>
  GroupCommitWriter.layer({
    flushers: db.kind === "pglite" ? 1 : config.commitFlushers,
    maxBatchRows: config.maxBatchRows,
    lingerMs: Duration.toMillis(config.commitLinger)
  })))

const HubLive = Layer.unwrapEffect(Effect.map(Effect.zip(ChannelConfig.ChannelConfig, HubConfig.HubConfig), ([channel, hub]) =>
  ChannelHub.layer(HubConfig.hubOptions(hub, channel.feedKeepAlive))))

const OutboxLive = Layer.unwrapEffect(Effect.map(HubConfig.HubConfig, (hub) => PostOutbox.layer(HubConfig.outboxOptions(hub))))

/**
 * Backup shards across the live nodes' stores (R copies each), the repair and scrub passes on demand; the same
 * passes, the manifest scrub, retention and shard garbage collection on a schedule as one cluster singleton; the
 * backup job runner (another singleton), the gauge of the newest committed backup, and the backup schedules
 * (ClusterCron, when configured).
 */
const BackupStoresLive = Layer.mergeAll(
  ShardMaintenanceSchedule.layer,
  Layer.unwrapEffect(Effect.map(EdgeConfig.EdgeConfig, (edge) => BackupJobRunner.layer(EdgeConfig.nodeIdOf(edge)))),
  LastSuccessGauge.layer,
  BackupSchedule.layer
).pipe(
  Layer.provide(SnapshotSourceLive.layer),
  Layer.provideMerge(BackupRetention.layer),
  Layer.provideMerge(Layer.merge(ClusterBackupShards.layer, ShardMaintenance.layer))
)

const EntitiesLive = Layer.mergeAll(ChannelEntityLive, UserEntityLive).pipe(
  Layer.provide(Layer.merge(WriterLive, ShardRelease.layer))
)

const EdgeServicesLive = Operations.Default.pipe(
  Layer.provideMerge(Layer.mergeAll(ChatService.layer, NodeStatusLive, AuthLive, RateLimiter.layer, RoleChange.Default)),
  Layer.provideMerge(HubLive),
  Layer.provideMerge(UserBudgets.layer),
  Layer.provide([OutboxLive, FanOutLive])
)

/**
 * The workspace roles the entities check (cached per node), the audit log, labelled with the node's id, and the
 * feature flags (cached per node, re-read every PLEXI_FLAGS_REFRESH).
 */
const AccessLive = FeatureFlags.layer.pipe(Layer.provideMerge(Layer.mergeAll(
  WorkspaceRoles.layer(),
  Layer.unwrapEffect(Effect.map(NodeId, (node) => AuditLog.layer(node)))
)))

/**
 * A node on Postgres (a cluster others can reach) needs shared signing keys
 * and TOTP-secret keys; a retired variable still set (the development
 * tokens') is named in a warning.
 */
const OwnSecretCheck = Layer.effectDiscard(
  Effect.zipRight(
    warnRetiredSettings,
    Effect.flatMap(
      Effect.all([DatabaseConfig.DatabaseConfig, AuthConfig.AuthConfig, MfaConfig.MfaConfig]),
      ([store, auth, mfa]) =>
        Effect.all([
          AuthConfig.requireSigningKeys(auth, DatabaseConfig.onPostgres(store)),
          MfaConfig.requireMfaKeys(mfa, DatabaseConfig.onPostgres(store))
        ], { discard: true })
    )
  )
)

/**
 * Every unit's settings, read and validated at start: a bad value stops the
 * node naming its variable. (The log level, `LogConfig`, is read before the
 * node is built, in runtime/main.ts.)
 */
const SettingsLive = OwnSecretCheck.pipe(Layer.provideMerge(Layer.mergeAll(
  DatabaseConfig.layerFromEnv(),
  EdgeConfig.layerFromEnv(),
  AuthConfig.layerFromEnv(),
  WebAuthnConfig.layerFromEnv(),
  MfaConfig.layerFromEnv(),
  OidcConfig.layerFromEnv(),
  RevocationConfig.layerFromEnv(),
  ClusterConfig.layerFromEnv(),
  WsConfig.layerFromEnv(),
  HttpConfig.layerFromEnv(),
  HardeningConfig.layerFromEnv(),
  ChannelConfig.layerFromEnv(),
  HubConfig.layerFromEnv(),
  UserBudgetConfig.layerFromEnv(),
  LoginThrottleConfig.layerFromEnv(),
  TelemetryConfig.layerFromEnv(),
  FlagsConfig.layerFromEnv(),
  LifecycleConfig.layerFromEnv(),
  ShardStoreConfig.layerFromEnv(),
  BackupConfig.layerFromEnv(),
  RetentionConfig.layerFromEnv(),
  BackupJobConfig.layerFromEnv(),
  BackupScheduleConfig.layerFromEnv()
)))

/** Logs, at a stop, that the layers built after it (released before it) are closed: the stop's phases, timed. */
const stopped = (what: string) => Layer.scopedDiscard(Effect.addFinalizer(() => Effect.logInfo(`graceful stop: ${what} closed`)))

/**
 * Everything one node runs; `Layer.launch` it. The edge is built after the
 * entities and so released before them: on shutdown it first closes its
 * sockets (1001) and channel feeds, and only then do entities stop.
 */
export const NodeLive = ShutdownDeadline.layer.pipe(
  Layer.provideMerge(PortFile.layer),
  Layer.provideMerge(EdgeLive),
  Layer.provide(EdgeServicesLive),
  Layer.provideMerge(EntitiesLive),
  Layer.provideMerge(LocalChannels.layer(ChannelConfig.entityIdleTime)),
  Layer.provideMerge(AccessLive),
  Layer.provideMerge(NodeReleaseLive),
  Layer.provideMerge(Layer.mergeAll(UwsApp.layer, NodeIdLive, Draining.layer)),
  Layer.provideMerge(MessageStore.Default),
  Layer.provideMerge(BackupStoresLive),
  Layer.provideMerge(Cluster.layer),
  Layer.provideMerge(stopped("cluster runner")),
  Layer.provideMerge(ShardStorePeers.localLayer),
  Layer.provideMerge(StoreLive),
  Layer.provideMerge(stopped("database")),
  Layer.provideMerge(RunnerSocket.layer),
  Layer.provideMerge(stopped("runner socket")),
  // Built before everything else (its tracer must reach every fiber), released last (a final export).
  Layer.provideMerge(Layer.merge(OtlpExportLive, MetricsServerLive)),
  Layer.provideMerge(Layer.mergeAll(SettingsLive, Layer.scopedDiscard(runtimeSampler)))
)

