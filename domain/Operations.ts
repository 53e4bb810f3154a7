/**
 * What the admin CLI (`plexichat`, src/cli/) reads and changes through the
 * typed RPCs of domain/OperationsRpcs.ts: the cluster view, account and
 * channel listings, account creation, and feature flags. Owners and admins
 * only (the stored role, checked on every call).
 */
import { Schema } from "effect"
import { Email, PasswordField, Username, WorkspaceRole } from "./Auth.ts"
import { ChannelId, UserId } from "./Ids.ts"

/** The release a node recorded at its start (`plexi_node_releases`). Since protocol 1.2. */
export const NodeRelease = Schema.Struct({
  packageVersion: Schema.String,
  protocolVersion: Schema.String,
  startedAt: Schema.Int
})
export type NodeRelease = typeof NodeRelease.Type

/** One runner of the cluster as the database sees it (a single node: the node itself). */
export const NodeView = Schema.Struct({
  /** The runner's advertised address (`PLEXI_RUNNER_HOST:port`); a single node: its node id. */
  address: Schema.String,
  /** Whether the cluster library counts it healthy. */
  healthy: Schema.Boolean,
  /** Milliseconds since its last heartbeat, as the database's clock sees it (0 on a single node). */
  heartbeatAgeMs: Schema.Int,
  /** Shards recorded as held by it (`plexi_shard_holders`; a single node: all it holds). */
  shards: Schema.Int,
  /** Whether this is the node that answered. */
  self: Schema.Boolean,
  /** Its release; absent when it recorded none (a node older than protocol 1.2), or from a node that old. */
  release: Schema.optional(NodeRelease)
})
export type NodeView = typeof NodeView.Type

/**
 * The answering node's group-commit latency over about the last `windowMs`
 * (estimated from its `plexichat_commit_latency_ms` buckets; null
 * quantiles when it committed nothing then). Since protocol 1.2.
 */
export const CommitLatency = Schema.Struct({
  windowMs: Schema.Int,
  /** Group-commit INSERTs in the window. */
  count: Schema.Int,
  p50Ms: Schema.NullOr(Schema.Number),
  p99Ms: Schema.NullOr(Schema.Number)
})
export type CommitLatency = typeof CommitLatency.Type

/** The answering node's own live figures (those of its `GET /api/v1/health`, plus its commit latency). */
export const NodeFigures = Schema.Struct({
  nodeId: Schema.String,
  shards: Schema.Int,
  connections: Schema.Int,
  feeds: Schema.Int,
  websocketEngine: Schema.String,
  database: Schema.String,
  /** Absent from a node older than protocol 1.2. */
  commitLatency: Schema.optional(CommitLatency)
})

export const EntityCounts = Schema.Struct({
  accounts: Schema.Int,
  disabledAccounts: Schema.Int,
  channels: Schema.Int,
  messages: Schema.Int,
  activeSessions: Schema.Int
})

/** The cluster as one node sees it: nodes, shards per node, entity counts, versions. */
export const ClusterView = Schema.Struct({
  mode: Schema.Literal("single", "multi"),
  protocolVersion: Schema.String,
  /** The newest migration recorded in the database (`plexi_migrations`). */
  schemaVersion: Schema.Int,
  shardsTotal: Schema.Int,
  nodes: Schema.Array(NodeView),
  counts: EntityCounts,
  answeredBy: NodeFigures,
  at: Schema.Int
})
export type ClusterView = typeof ClusterView.Type

/** One account as an administrator lists it (never a password hash or a secret). */
export const AccountSummary = Schema.Struct({
  userId: UserId,
  username: Schema.String,
  email: Schema.NullOr(Schema.String),
  role: WorkspaceRole,
  disabled: Schema.Boolean,
  /** Whether a confirmed TOTP authenticator or a WebAuthn key is on. */
  mfa: Schema.Boolean,
  activeSessions: Schema.Int,
  createdAt: Schema.Int
})
export type AccountSummary = typeof AccountSummary.Type

const PageLimit = Schema.Int.pipe(Schema.between(1, 500))

export const ListAccountsRequest = Schema.Struct({
  /** Only accounts whose username sorts after this one (case-insensitive), for paging. */
  after: Schema.optional(Schema.String.pipe(Schema.maxLength(64))),
  limit: Schema.optionalWith(PageLimit, { default: () => 100 })
})

/** The roles an account is created with (owners are made with a role change, by an owner). */
export const CreatedRole = Schema.Literal("admin", "moderator", "member", "guest")

export const CreateAccountRequest = Schema.Struct({
  username: Username,
  password: PasswordField,
  email: Schema.optional(Email),
  role: Schema.optionalWith(CreatedRole, { default: () => "member" as const })
})

/** One channel as an administrator lists it (private ones too: names and counts only, never messages). */
export const ChannelSummary = Schema.Struct({
  channelId: ChannelId,
  name: Schema.String,
  visibility: Schema.Literal("public", "private"),
  members: Schema.Int,
  createdBy: Schema.String,
  createdAt: Schema.Int
})
export type ChannelSummary = typeof ChannelSummary.Type

export const ListChannelsRequest = Schema.Struct({
  after: Schema.optional(ChannelId),
  limit: Schema.optionalWith(PageLimit, { default: () => 100 })
})
