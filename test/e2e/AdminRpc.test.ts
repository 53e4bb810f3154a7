/**
 * Account administration over the typed RPC client (domain/AdminRpcs.ts)
 * against two real node processes on one real Postgres: the owner's
 * operations take effect on both nodes, a member's are Forbidden and change
 * nothing (rows checked in SQL).
 */
import { UserId } from "plexichat/client"
import { describe, expect, it, vi } from "vitest"
import { authClient } from "../fixtures/AuthClient.ts"
import { postgresPairForSuite } from "../fixtures/PostgresPair.ts"
import { failure, ok, rpc } from "../fixtures/RpcCalls.ts"

const password = "a long and unusual passphrase"

describe("account administration as typed RPCs", () => {
  const pair = postgresPairForSuite("rpc-admin")
  const accountRow = async (userId: string) =>
    (await pair.sql().query("SELECT role, disabled_at, password_hash FROM plexi_accounts WHERE user_id = $1", [userId])).rows[0]

  it("lets the owner disable, enable, reset a password and change a role, and refuses a member", async () => {
    // The first account of the empty installation is the owner.
    const owner = await authClient(pair.a().url).signUp("rpc-owner", password)
    expect(owner.role).toBe("owner")
    const signedUp = await authClient(pair.a().url).signUp("rpc-member", password)
    const member = { ...signedUp, userId: UserId.make(signedUp.userId) }
    const before = await accountRow(owner.userId)

    for (const attempt of [
      (c: any) => c.DisableAccount({ userId: UserId.make(owner.userId) }),
      (c: any) => c.ResetPassword({ userId: UserId.make(owner.userId), newPassword: "taken over passphrase" }),
      (c: any) => c.SetWorkspaceRole({ userId: member.userId, role: "admin" })
    ]) {
      expect(await failure(rpc(pair.b(), attempt, member.accessToken))).toMatchObject({ _tag: "Forbidden" })
    }
    expect(await accountRow(owner.userId)).toEqual(before)

    expect(await ok(rpc(pair.a(), (c) => c.SetWorkspaceRole({ userId: member.userId, role: "moderator" }), owner.accessToken)))
      .toEqual({ userId: member.userId, role: "moderator", previous: "member" })
    expect((await accountRow(member.userId)).role).toBe("moderator")

    const disabled = await ok(rpc(pair.a(), (c) => c.DisableAccount({ userId: member.userId }), owner.accessToken))
    expect(disabled).toMatchObject({ userId: member.userId, disabled: true })
    // The member's token stops working on the other node too.
    await vi.waitFor(async () => {
      expect(await failure(rpc(pair.b(), (c) => c.Me({}), member.accessToken))).toMatchObject({ _tag: "Unauthorized" })
    }, { timeout: 5_000 })
    expect(await failure(rpc(pair.b(), (c) => c.Login({ username: "rpc-member", password })))).toMatchObject({ _tag: "AccountDisabled" })

    await ok(rpc(pair.b(), (c) => c.EnableAccount({ userId: member.userId }), owner.accessToken))
    expect(await failure(rpc(pair.a(), (c) => c.ResetPassword({ userId: member.userId, newPassword: "password1" }), owner.accessToken)))
      .toMatchObject({ _tag: "WeakPassword" })
    expect(await ok(rpc(pair.a(), (c) => c.ResetPassword({ userId: member.userId, newPassword: "a brand new passphrase" }), owner.accessToken)))
      .toMatchObject({ revoked: expect.any(Number) })
    expect(await failure(rpc(pair.b(), (c) => c.Login({ username: "rpc-member", password })))).toMatchObject({ _tag: "InvalidCredentials" })
    await ok(rpc(pair.b(), (c) => c.Login({ username: "rpc-member", password: "a brand new passphrase" })))

    expect(await failure(rpc(pair.a(), (c) => c.DisableAccount({ userId: "u_nobody" as never }), owner.accessToken)))
      .toMatchObject({ _tag: "AccountNotFound" })
  })
})
