/**
 * Who may disable, enable, reset the password or reset the second factors
 * of whose account: a workspace owner or admin, never on their own account,
 * an admin never on an owner's (an admin who could reset an owner's password
 * or MFA could become that owner), and never so that no enabled owner is
 * left. The caller's
 * standing is checked first, so a member learns nothing about the target
 * (not even whether it exists).
 */
import type { WorkspaceRole } from "../../domain/Auth.ts"
import type { UserId } from "../../domain/Ids.ts"

export type AdminAction = "disable" | "enable" | "password" | "mfa"

export interface Party {
  readonly userId: UserId
  readonly role: WorkspaceRole
  readonly disabled: boolean
}

export type Refusal =
  | { readonly _tag: "Forbidden"; readonly message: string }
  | { readonly _tag: "NotFound" }

const forbidden = (message: string): Refusal => ({ _tag: "Forbidden", message })

const selfMessages: Record<AdminAction, string> = {
  disable: "you cannot disable or enable your own account",
  enable: "you cannot disable or enable your own account",
  password: "change your own password with POST /api/v1/auth/password",
  mfa: "manage your own second factors with POST /api/v1/auth/totp/disable and DELETE /api/v1/auth/webauthn/keys/:id"
}

/** Why `actor` may not do `action` to `target`, or undefined when it may; `enabledOwners` counts the enabled owners. */
export const refusal = (
  actor: Party | undefined,
  target: Party | undefined,
  action: AdminAction,
  enabledOwners: number
): Refusal | undefined => {
  if (actor === undefined || actor.disabled || (actor.role !== "owner" && actor.role !== "admin")) {
    return forbidden("only a workspace owner or admin may manage accounts")
  }
  if (target === undefined) return { _tag: "NotFound" }
  if (actor.userId === target.userId) {
    return forbidden(selfMessages[action])
  }
  if (target.role === "owner" && actor.role !== "owner") return forbidden("only an owner may manage an owner's account")
  if (action === "disable" && target.role === "owner" && !target.disabled && enabledOwners <= 1) {
    return forbidden("the last owner cannot be disabled")
  }
  return undefined
}
