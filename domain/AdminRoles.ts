/**
 * Workspace role changes (`POST /api/v1/admin/users/:userId/role`). Owners
 * and admins change roles; nobody raises their own role; only an owner makes
 * an owner or changes an owner's role; the last owner cannot be demoted.
 * Every refusal is a typed error, writes nothing but its audit entry.
 */
import * as HttpApiEndpoint from "@effect/platform/HttpApiEndpoint"
import * as HttpApiGroup from "@effect/platform/HttpApiGroup"
import * as HttpApiSchema from "@effect/platform/HttpApiSchema"
import * as OpenApi from "@effect/platform/OpenApi"
import { Schema } from "effect"
import { WorkspaceRole } from "./Auth.ts"
import { AccountNotFound } from "./AdminUsers.ts"
import { Forbidden, ServiceUnavailable } from "./Errors.ts"
import { UserId } from "./Ids.ts"

export const RoleChangeRequest = Schema.Struct({ role: WorkspaceRole })

/** The account's role after the change (`previous` before it; equal when nothing changed). */
export const RoleChanged = Schema.Struct({ userId: UserId, role: WorkspaceRole, previous: WorkspaceRole })
export type RoleChanged = typeof RoleChanged.Type

const userId = HttpApiSchema.param("userId", UserId)

export class AdminRolesApi extends HttpApiGroup.make("adminRoles")
  .add(
    HttpApiEndpoint.post("setRole")`/admin/users/${userId}/role`
      .setPayload(RoleChangeRequest)
      .addSuccess(RoleChanged)
      .addError(Forbidden)
      .addError(AccountNotFound)
      .addError(ServiceUnavailable)
      .annotate(
        OpenApi.Description,
        "Sets a workspace role (owner, admin, moderator, member, guest). Owners and admins only; nobody raises their own " +
          "role; only an owner makes an owner or changes an owner's role; the last owner cannot be demoted (403 Forbidden)."
      )
  )
{}
