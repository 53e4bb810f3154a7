/**
 * OpenID Connect statements: started sign-ins (`plexi_oidc_flows`, keyed by
 * the SHA-256 of their `state`, single-use) and the provider identities
 * linked to accounts (`plexi_oidc_identities`, one per provider and subject,
 * at most one per provider and account).
 */
import type { SqlClient } from "@effect/sql"
import type { SqlError } from "@effect/sql/SqlError"
import { Effect, Option } from "effect"
import type { OidcIdentity } from "../../../domain/Oidc.ts"
import type { UserId } from "../../../domain/Ids.ts"

export interface NewFlow {
  readonly stateHash: string
  readonly provider: string
  readonly nonce: string
  readonly codeVerifier: string
  /** SHA-256 of the secret the starting client keeps and completes with. */
  readonly bindingHash: string
  /** A link flow: the account the identity is to be linked to; a sign-in flow has none. */
  readonly linkUserId: Option.Option<UserId>
  readonly now: number
  readonly expiresAt: number
}

export interface Flow {
  readonly provider: string
  readonly nonce: string
  readonly codeVerifier: string
  readonly expiresAt: number
}

/** Stores a started flow; expired ones are purged on the way (the index on `expires_at` keeps that cheap). */
export const insertFlow = (sql: SqlClient.SqlClient) => (flow: NewFlow): Effect.Effect<void, SqlError> =>
  sql.withTransaction(Effect.zipRight(
    sql`DELETE FROM plexi_oidc_flows WHERE expires_at < ${flow.now}`,
    sql`INSERT INTO plexi_oidc_flows (state_hash, provider, nonce, code_verifier, binding_hash, link_user_id, created_at, expires_at)
      VALUES (${flow.stateHash}, ${flow.provider}, ${flow.nonce}, ${flow.codeVerifier}, ${flow.bindingHash},
        ${Option.getOrNull(flow.linkUserId)}, ${flow.now}, ${flow.expiresAt})`
  ))

interface FlowRow {
  readonly provider: string
  readonly nonce: string
  readonly code_verifier: string
  readonly expires_at: string | number
}

/**
 * Takes (deletes and answers) the flow with this state hash and binding
 * hash, once: a sign-in flow for `linkUserId` none, the link flow of that
 * account otherwise. A flow of the other kind, or presented without its
 * binding, is left alone, so a link flow's state cannot be spent by (or
 * sign anyone in through) the public callback, nor a flow by another client.
 */
export const takeFlow = (sql: SqlClient.SqlClient) =>
(stateHash: string, bindingHash: string, linkUserId: Option.Option<UserId>): Effect.Effect<Option.Option<Flow>, SqlError> =>
  Effect.map(
    Option.match(linkUserId, {
      onNone: () =>
        sql<FlowRow>`DELETE FROM plexi_oidc_flows
          WHERE state_hash = ${stateHash} AND binding_hash = ${bindingHash} AND link_user_id IS NULL
          RETURNING provider, nonce, code_verifier, expires_at`,
      onSome: (userId) =>
        sql<FlowRow>`DELETE FROM plexi_oidc_flows
          WHERE state_hash = ${stateHash} AND binding_hash = ${bindingHash} AND link_user_id = ${userId}
          RETURNING provider, nonce, code_verifier, expires_at`
    }),
    (rows) =>
      Option.map(Option.fromNullable(rows[0]), (row) => ({
        provider: row.provider,
        nonce: row.nonce,
        codeVerifier: row.code_verifier,
        expiresAt: Number(row.expires_at)
      }))
  )

export const findIdentityOwner = (sql: SqlClient.SqlClient) =>
(provider: string, subject: string): Effect.Effect<Option.Option<UserId>, SqlError> =>
  Effect.map(
    sql<{ user_id: string }>`SELECT user_id FROM plexi_oidc_identities WHERE provider = ${provider} AND subject = ${subject}`,
    (rows) => Option.map(Option.fromNullable(rows[0]), (row) => row.user_id as UserId)
  )

export interface NewIdentity {
  readonly provider: string
  readonly subject: string
  readonly userId: UserId
  readonly email: Option.Option<string>
  readonly now: number
}

/**
 * What a registration through OIDC adds in its own transaction: the link,
 * and the account's email marked verified when the provider verified it.
 * A concurrent first sign-in of the same identity makes the INSERT fail on
 * the primary key (the caller then signs in the account that won).
 */
export const insertIdentity = (sql: SqlClient.SqlClient, identity: NewIdentity) =>
  Effect.zipRight(
    sql`INSERT INTO plexi_oidc_identities (provider, subject, user_id, email, linked_at)
      VALUES (${identity.provider}, ${identity.subject}, ${identity.userId}, ${Option.getOrNull(identity.email)}, ${identity.now})`,
    Option.isSome(identity.email)
      ? Effect.asVoid(
        sql`UPDATE plexi_accounts SET email_verified = true WHERE user_id = ${identity.userId} AND lower(email) = lower(${identity.email.value})`
      )
      : Effect.void
  )

/** A unique key refused the row (SQLSTATE 23505): someone else's row got there first. */
export const isUniqueViolation = (error: SqlError): boolean =>
  (error.cause as { readonly code?: unknown } | null | undefined)?.code === "23505"

/** The account whose email (compared without regard to case) a provider verified. */
export const findByVerifiedEmail = (sql: SqlClient.SqlClient) => (email: string): Effect.Effect<Option.Option<UserId>, SqlError> =>
  Effect.map(
    sql<{ user_id: string }>`SELECT user_id FROM plexi_accounts WHERE lower(email) = lower(${email}) AND email_verified`,
    (rows) => Option.map(Option.fromNullable(rows[0]), (row) => row.user_id as UserId)
  )

/** What a link did: linked (or was linked already to this account), or why not. */
export type Linking =
  | { readonly _tag: "Linked" }
  | { readonly _tag: "OtherAccount" }
  | { readonly _tag: "OtherIdentity" }

/**
 * Links the identity to the account, unless it belongs to another account or
 * the account has another identity of the same provider. Takes turns with
 * other links of the account (row lock on the account).
 */
export const linkIdentity = (sql: SqlClient.SqlClient) => (identity: NewIdentity): Effect.Effect<Linking, SqlError> =>
  sql.withTransaction(Effect.gen(function*() {
    yield* sql`SELECT user_id FROM plexi_accounts WHERE user_id = ${identity.userId} FOR UPDATE`
    const owner = yield* sql<{ user_id: string }>`
      SELECT user_id FROM plexi_oidc_identities WHERE provider = ${identity.provider} AND subject = ${identity.subject}`
    if (owner[0] !== undefined) return owner[0].user_id === identity.userId ? { _tag: "Linked" } as const : { _tag: "OtherAccount" } as const
    const other = yield* sql<{ subject: string }>`
      SELECT subject FROM plexi_oidc_identities WHERE provider = ${identity.provider} AND user_id = ${identity.userId}`
    if (other.length > 0) return { _tag: "OtherIdentity" } as const
    // Another account may link the same identity at this moment (it locks only its own row): the key decides.
    const inserted = yield* sql<{ subject: string }>`INSERT INTO plexi_oidc_identities (provider, subject, user_id, email, linked_at)
      VALUES (${identity.provider}, ${identity.subject}, ${identity.userId}, ${Option.getOrNull(identity.email)}, ${identity.now})
      ON CONFLICT DO NOTHING RETURNING subject`
    return inserted.length > 0 ? { _tag: "Linked" } as const : { _tag: "OtherAccount" } as const
  }))

interface IdentityRow {
  readonly provider: string
  readonly subject: string
  readonly email: string | null
  readonly linked_at: string | number
}

const toIdentity = (row: IdentityRow): OidcIdentity => ({
  provider: row.provider,
  subject: row.subject,
  email: row.email,
  linkedAt: Number(row.linked_at)
})

export const listIdentities = (sql: SqlClient.SqlClient) => (userId: UserId): Effect.Effect<ReadonlyArray<OidcIdentity>, SqlError> =>
  Effect.map(
    sql<IdentityRow>`SELECT provider, subject, email, linked_at FROM plexi_oidc_identities WHERE user_id = ${userId}
      ORDER BY linked_at, provider`,
    (rows) => rows.map(toIdentity)
  )

/** What an unlink did. */
export type Unlinking = { readonly _tag: "Unlinked"; readonly count: number } | { readonly _tag: "LastWayIn" }

/**
 * Removes the account's identity of `provider`, unless it is the account's
 * only way to sign in (no password, no other identity).
 */
export const unlinkIdentity = (sql: SqlClient.SqlClient) =>
(userId: UserId, provider: string, noPassword: string): Effect.Effect<Unlinking, SqlError> =>
  sql.withTransaction(Effect.gen(function*() {
    const account = yield* sql<{ password_hash: string }>`
      SELECT password_hash FROM plexi_accounts WHERE user_id = ${userId} FOR UPDATE`
    const identities = yield* sql<{ provider: string }>`SELECT provider FROM plexi_oidc_identities WHERE user_id = ${userId}`
    if (!identities.some((row) => row.provider === provider)) return { _tag: "Unlinked", count: 0 } as const
    if (account[0]?.password_hash === noPassword && identities.length === 1) return { _tag: "LastWayIn" } as const
    yield* sql`DELETE FROM plexi_oidc_identities WHERE user_id = ${userId} AND provider = ${provider}`
    return { _tag: "Unlinked", count: 1 } as const
  }))
