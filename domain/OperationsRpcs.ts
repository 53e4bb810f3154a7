/**
 * Operations as typed RPCs (`/rpc`), for the admin CLI and other tools:
 * owners and admins only (the stored role, checked on every call; anyone
 * else gets `Forbidden`, and the refusal is audited as `admin.ops.denied`).
 */
import { Rpc, RpcGroup } from "@effect/rpc"
import { Schema } from "effect"
import { RpcAuthentication } from "./Api.ts"
import { Revoked } from "./Auth.ts"
import { EmailTaken, UsernameTaken, WeakPassword } from "./AuthErrors.ts"
import { AccountNotFound } from "./AdminUsers.ts"
import { Forbidden, ServiceUnavailable } from "./Errors.ts"
import { FeatureFlag, FlagState, SetFlagRequest } from "./FeatureFlags.ts"
import { UserId } from "./Ids.ts"
import {
  AccountSummary,
  ChannelSummary,
  ClusterView,
  CreateAccountRequest,
  ListAccountsRequest,
  ListChannelsRequest
} from "./Operations.ts"

const OpsFailure = Schema.Union(Forbidden, ServiceUnavailable)

/** The cluster: its runners, the shards each holds, entity counts and the versions in use. */
export const ClusterStatus = Rpc.make("ClusterStatus", { payload: {}, success: ClusterView, error: OpsFailure })

/** Accounts by username (case-insensitive), `limit` at a time after `after`. */
export const ListAccounts = Rpc.make("ListAccounts", {
  payload: ListAccountsRequest,
  success: Schema.Array(AccountSummary),
  error: OpsFailure
})

/**
 * Creates an account without signing it in (whatever the registration mode).
 * The password rules apply (`WeakPassword`); only an owner creates an admin.
 */
export const CreateAccount = Rpc.make("CreateAccount", {
  payload: CreateAccountRequest,
  success: AccountSummary,
  error: Schema.Union(OpsFailure, WeakPassword, UsernameTaken, EmailTaken)
})

/**
 * Ends every session of another account, on every node within the
 * revocation poll interval; the account can sign in again. The rules of
 * `DisableAccount` apply (not one's own, an admin never an owner's).
 */
export const RevokeUserSessions = Rpc.make("RevokeUserSessions", {
  payload: { userId: UserId },
  success: Revoked,
  error: Schema.Union(OpsFailure, AccountNotFound)
})

/** Every channel, private ones included (names and member counts), by id after `after`. */
export const ListChannels = Rpc.make("ListChannels", {
  payload: ListChannelsRequest,
  success: Schema.Array(ChannelSummary),
  error: OpsFailure
})

/** Every stored feature flag, by name, with whether the answering node already acts on its value. */
export const ListFlags = Rpc.make("ListFlags", { payload: {}, success: Schema.Array(FlagState), error: OpsFailure })

/** Turns a flag on or off (creating it); every node sees it within `PLEXI_FLAGS_REFRESH`. Audited. */
export const SetFlag = Rpc.make("SetFlag", { payload: SetFlagRequest, success: FeatureFlag, error: OpsFailure })

export class OperationsRpcs extends RpcGroup.make(
  ClusterStatus,
  ListAccounts,
  CreateAccount,
  RevokeUserSessions,
  ListChannels,
  ListFlags,
  SetFlag
).middleware(RpcAuthentication) {}
