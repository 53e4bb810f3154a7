/** The workspace role-change rules (`refusal`), over every actor role, target role and requested role. */
import { describe, expect, it } from "@effect/vitest"
import type { WorkspaceRole } from "../../domain/Auth.ts"
import { UserId } from "../../domain/Ids.ts"
import { refusal } from "../../src/roles/RoleChange.ts"
import { rank } from "../../src/roles/WorkspaceRoles.ts"

const roles: Array<WorkspaceRole> = ["owner", "admin", "moderator", "member", "guest"]
const a = UserId.make("u_actor")
const b = UserId.make("u_target")

describe("role change rules", () => {
  it("lets only owners and admins change roles", () => {
    for (const actor of ["moderator", "member", "guest"] as const) {
      for (const target of roles) {
        for (const role of roles) {
          expect(refusal({ userId: a, role: actor }, { userId: b, role: target }, role, 2)).toBe("only workspace owners and admins change roles")
        }
      }
    }
  })

  it("never lets anyone raise their own role, and allows lowering it (except the last owner)", () => {
    for (const own of ["owner", "admin"] as const) {
      for (const role of roles) {
        const reason = refusal({ userId: a, role: own }, { userId: a, role: own }, role, 1)
        if (rank[role] > rank[own]) expect(reason).toBe("nobody raises their own role")
        else if (own === "owner" && role !== "owner") expect(reason).toContain("the last owner cannot be demoted")
        else expect(reason).toBeUndefined()
      }
    }
    expect(refusal({ userId: a, role: "owner" }, { userId: a, role: "owner" }, "admin", 2)).toBeUndefined()
  })

  it("lets only an owner make an owner or change an owner's role, and keeps the last owner", () => {
    expect(refusal({ userId: a, role: "admin" }, { userId: b, role: "member" }, "owner", 1)).toBe("only an owner makes an owner")
    expect(refusal({ userId: a, role: "admin" }, { userId: b, role: "owner" }, "member", 2)).toBe("only an owner changes an owner's role")
    expect(refusal({ userId: a, role: "owner" }, { userId: b, role: "member" }, "owner", 1)).toBeUndefined()
    expect(refusal({ userId: a, role: "owner" }, { userId: b, role: "owner" }, "admin", 2)).toBeUndefined()
    expect(refusal({ userId: a, role: "owner" }, { userId: b, role: "owner" }, "admin", 1)).toContain("the last owner cannot be demoted")
    expect(refusal({ userId: a, role: "admin" }, { userId: b, role: "admin" }, "guest", 1)).toBeUndefined()
  })
})
