/**
 * The migrations of identity and access (issue 7): second factors,
 * revocations, the audit log, the login throttle, OpenID Connect and
 * WebAuthn. Part of `migrations` (Migrations.ts), in the same order.
 */
import { SqlClient } from "@effect/sql"
import { Effect } from "effect"

export const identityMigrations = {
  /**
   * Multi-factor sign-in (src/auth/store/MfaRows.ts). One TOTP row per
   * account: the secret sealed with AES-256-GCM, pending until confirmed,
   * and the last accepted time step (a code of that step or an earlier one
   * is refused). Backup codes as SHA-256 hex. Sign-in challenges as the
   * SHA-256 of the challenge token, with their wrong-attempt count.
   */
  "0005_mfa": Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    yield* sql`CREATE TABLE plexi_mfa_totp (
      user_id text PRIMARY KEY REFERENCES plexi_accounts (user_id) ON DELETE CASCADE,
      secret_sealed text NOT NULL,
      created_at bigint NOT NULL,
      confirmed_at bigint,
      last_used_step bigint
    )`
    yield* sql`CREATE TABLE plexi_mfa_backup_codes (
      user_id text NOT NULL REFERENCES plexi_accounts (user_id) ON DELETE CASCADE,
      code_hash text NOT NULL,
      created_at bigint NOT NULL,
      used_at bigint,
      PRIMARY KEY (user_id, code_hash)
    )`
    yield* sql`CREATE TABLE plexi_mfa_challenges (
      challenge_hash text PRIMARY KEY,
      user_id text NOT NULL REFERENCES plexi_accounts (user_id) ON DELETE CASCADE,
      device_name text NOT NULL,
      created_at bigint NOT NULL,
      expires_at bigint NOT NULL,
      attempts integer NOT NULL DEFAULT 0,
      ended_at bigint,
      ended_reason text
    )`
    yield* sql`CREATE INDEX plexi_mfa_challenges_user ON plexi_mfa_challenges (user_id)`
  }),
  /**
   * Revocations every node follows (src/auth/Revocations.ts): one row per
   * ended session whose access tokens may still be alive, and per account
   * disabled or enabled. Nodes poll it by `seq` and keep what is still
   * relevant (`until`) in memory; `until` also lets old rows be purged.
   * A disabled account (`disabled_at`) cannot sign in or refresh.
   */
  "0006_revocations": Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    yield* sql`ALTER TABLE plexi_accounts ADD COLUMN disabled_at bigint`
    yield* sql`ALTER TABLE plexi_accounts ADD COLUMN disabled_by text`
    yield* sql`CREATE TABLE plexi_revocations (
      seq bigserial PRIMARY KEY,
      kind text NOT NULL CHECK (kind IN ('session', 'user_disabled', 'user_enabled')),
      user_id text NOT NULL,
      session_id text,
      recorded_at bigint NOT NULL,
      until bigint NOT NULL
    )`
    yield* sql`CREATE INDEX plexi_revocations_until ON plexi_revocations (until)`
  }),
  /**
   * The audit log (src/audit/): one hash chain over every node's events.
   * `seq` is gap-free and given under the row lock of `plexi_audit_head`
   * (the chain's last seq and hash), so appends from all nodes are
   * serialised; each row's `hash` covers its fields and the previous row's
   * hash. A trigger refuses UPDATE, DELETE and TRUNCATE (the chain detects
   * what someone with the rights to drop the trigger changes anyway).
   */
  "0007_audit_log": Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    yield* sql`CREATE TABLE plexi_audit_log (
      seq bigint PRIMARY KEY,
      at bigint NOT NULL,
      actor text,
      action text NOT NULL,
      target text,
      ip text,
      node text NOT NULL,
      details text NOT NULL,
      prev_hash text NOT NULL,
      hash text NOT NULL
    )`
    yield* sql`CREATE INDEX plexi_audit_log_actor ON plexi_audit_log (actor, seq)`
    yield* sql`CREATE INDEX plexi_audit_log_action ON plexi_audit_log (action, seq)`
    yield* sql`CREATE INDEX plexi_audit_log_at ON plexi_audit_log (at)`
    yield* sql`CREATE TABLE plexi_audit_head (
      id int PRIMARY KEY CHECK (id = 1),
      seq bigint NOT NULL,
      hash text NOT NULL
    )`
    yield* sql`INSERT INTO plexi_audit_head (id, seq, hash) VALUES (1, 0, ${"0".repeat(64)})`
    yield* sql.unsafe(`CREATE FUNCTION plexi_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN RAISE EXCEPTION 'plexi_audit_log is append-only'; END $$`)
    yield* sql`CREATE TRIGGER plexi_audit_log_append_only BEFORE UPDATE OR DELETE ON plexi_audit_log
      FOR EACH ROW EXECUTE FUNCTION plexi_audit_append_only()`
    yield* sql`CREATE TRIGGER plexi_audit_log_no_truncate BEFORE TRUNCATE ON plexi_audit_log
      FOR EACH STATEMENT EXECUTE FUNCTION plexi_audit_append_only()`
  }),
  /**
   * The login throttle (src/auth/LoginPolicy.ts): failed sign-ins per
   * (username, address) pair, per account (address '') and per address
   * (username ''), with their delay and lock times; and the per-address
   * token buckets of sign-ins and registrations. Shared by every node.
   */
  "0008_login_throttle": Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    yield* sql`CREATE TABLE plexi_login_throttle (
      username text NOT NULL,
      address text NOT NULL,
      failures integer NOT NULL,
      window_started_at bigint NOT NULL,
      next_attempt_at bigint NOT NULL,
      locked_until bigint NOT NULL,
      PRIMARY KEY (username, address)
    )`
    yield* sql`CREATE INDEX plexi_login_throttle_address ON plexi_login_throttle (address)`
    yield* sql`CREATE TABLE plexi_rate_buckets (
      name text NOT NULL,
      key text NOT NULL,
      tokens double precision NOT NULL,
      refilled_at bigint NOT NULL,
      PRIMARY KEY (name, key)
    )`
  }),
  /**
   * OpenID Connect sign-in (src/auth/oidc/): started flows, single-use and
   * short-lived, keyed by the SHA-256 of their `state` (and bound to their
   * client by the SHA-256 of a secret it keeps); the provider identities
   * linked to accounts; whether an account's email was verified.
   */
  "0009_oidc": Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    yield* sql`CREATE TABLE plexi_oidc_flows (
      state_hash text PRIMARY KEY,
      provider text NOT NULL,
      nonce text NOT NULL,
      code_verifier text NOT NULL,
      binding_hash text NOT NULL,
      link_user_id text REFERENCES plexi_accounts (user_id) ON DELETE CASCADE,
      created_at bigint NOT NULL,
      expires_at bigint NOT NULL
    )`
    yield* sql`CREATE INDEX plexi_oidc_flows_expiry ON plexi_oidc_flows (expires_at)`
    yield* sql`CREATE TABLE plexi_oidc_identities (
      provider text NOT NULL,
      subject text NOT NULL,
      user_id text NOT NULL REFERENCES plexi_accounts (user_id) ON DELETE CASCADE,
      email text,
      linked_at bigint NOT NULL,
      PRIMARY KEY (provider, subject)
    )`
    yield* sql`CREATE UNIQUE INDEX plexi_oidc_identities_account ON plexi_oidc_identities (user_id, provider)`
    // Only an email a provider verified (an account made by an OIDC sign-in) may be linked by email.
    yield* sql`ALTER TABLE plexi_accounts ADD COLUMN email_verified boolean NOT NULL DEFAULT false`
  }),
  /**
   * WebAuthn security keys (src/auth/store/WebAuthnRows.ts): one row per
   * registered key (credential id, COSE public key as base64url, signature
   * counter, transports as a JSON array, name, times), and the challenges of
   * ceremonies under way, in the database so that any node may verify a
   * ceremony another node began. A challenge row is deleted by the ceremony
   * that uses it; expired ones are purged when new ones are stored.
   */
  "0010_webauthn": Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    yield* sql`CREATE TABLE plexi_webauthn_credentials (
      id text PRIMARY KEY,
      user_id text NOT NULL REFERENCES plexi_accounts (user_id) ON DELETE CASCADE,
      public_key text NOT NULL,
      counter bigint NOT NULL CHECK (counter >= 0),
      transports text NOT NULL,
      name text NOT NULL,
      created_at bigint NOT NULL,
      last_used_at bigint
    )`
    yield* sql`CREATE INDEX plexi_webauthn_credentials_user ON plexi_webauthn_credentials (user_id)`
    yield* sql`CREATE TABLE plexi_webauthn_challenges (
      id text PRIMARY KEY,
      challenge text NOT NULL,
      ceremony text NOT NULL CHECK (ceremony IN ('register', 'login', 'second_factor')),
      user_id text REFERENCES plexi_accounts (user_id) ON DELETE CASCADE,
      bound_to text,
      key_name text,
      created_at bigint NOT NULL,
      expires_at bigint NOT NULL
    )`
    yield* sql`CREATE INDEX plexi_webauthn_challenges_expiry ON plexi_webauthn_challenges (expires_at)`
  })
}
