/**
 * Multi-factor sign-in over the typed RPC client (`plexichat/client`,
 * domain/MfaRpcs.ts) against two real node processes on one real Postgres:
 * the same flow and typed errors as REST (test/e2e/Mfa.test.ts), a replayed
 * code checked in SQL to have written nothing but the attempt count.
 */
import { describe, expect, it } from "vitest"
import { authenticator } from "../fixtures/MfaClient.ts"
import { postgresPairForSuite } from "../fixtures/PostgresPair.ts"
import { failure, ok, rpc } from "../fixtures/RpcCalls.ts"

const password = "a long and unusual passphrase"

describe("multi-factor sign-in as typed RPCs", () => {
  const pair = postgresPairForSuite("rpc-mfa")

  const rows = async (userId: string) => {
    const sql = pair.sql()
    const one = async (text: string) => (await sql.query(text, [userId])).rows
    return {
      sessions: await one("SELECT id FROM plexi_sessions WHERE user_id = $1 ORDER BY id"),
      totp: await one("SELECT secret_sealed, last_used_step FROM plexi_mfa_totp WHERE user_id = $1"),
      codes: await one("SELECT code_hash, used_at FROM plexi_mfa_backup_codes WHERE user_id = $1 ORDER BY code_hash")
    }
  }

  it("enrols, confirms, signs in in two steps on either node, refuses a replay, and turns MFA off", async () => {
    const a = pair.a()
    const b = pair.b()
    const registered = await ok(rpc(a, (c) => c.Register({ username: "rpc-mia", password })))
    const token = registered.accessToken
    const enrolment = await ok(rpc(b, (c) => c.EnrolTotp({}), token))
    expect(enrolment.uri).toMatch(/^otpauth:\/\/totp\/PlexiChat:rpc-mia\?/)
    expect(await ok(rpc(a, (c) => c.GetMfaStatus({}), token))).toEqual({ totp: "pending", backupCodesLeft: 0 })
    const app = authenticator(enrolment.uri)
    const confirmCode = app.now()
    const { backupCodes } = await ok(rpc(a, (c) => c.ConfirmTotp({ code: confirmCode }), token))
    expect(backupCodes).toHaveLength(10)

    const required = await failure(rpc(b, (c) => c.Login({ username: "rpc-mia", password })))
    expect(required).toMatchObject({ _tag: "MfaRequired", factors: ["totp", "backup_code"] })
    const challenge = required._tag === "MfaRequired" ? required.challenge : ""

    const before = await rows(registered.userId)
    const replayed = await failure(rpc(a, (c) => c.CompleteMfa({ challenge, code: confirmCode })))
    expect(replayed).toMatchObject({ _tag: "InvalidMfaCode", reason: "replayed", attemptsLeft: 4 })
    expect(await rows(registered.userId)).toEqual(before)

    const lastStep = Number((await pair.sql().query("SELECT last_used_step FROM plexi_mfa_totp WHERE user_id = $1", [registered.userId]))
      .rows[0].last_used_step)
    const signedIn = await ok(rpc(a, (c) => c.CompleteMfa({ challenge, code: app.at(lastStep + 1) })))
    expect(signedIn).toMatchObject({ tokenType: "Bearer", userId: registered.userId })
    expect((await ok(rpc(b, (c) => c.Me({}), signedIn.accessToken))).id).toBe(registered.userId)

    // A backup code works once, over RPC too.
    const viaBackup = await failure(rpc(a, (c) => c.Login({ username: "rpc-mia", password })))
    const second = viaBackup._tag === "MfaRequired" ? viaBackup.challenge : ""
    await ok(rpc(b, (c) => c.CompleteMfa({ challenge: second, code: backupCodes[0]! })))
    const third = await failure(rpc(a, (c) => c.Login({ username: "rpc-mia", password })))
    const reused = await failure(
      rpc(b, (c) => c.CompleteMfa({ challenge: third._tag === "MfaRequired" ? third.challenge : "", code: backupCodes[0]! }))
    )
    expect(reused).toMatchObject({ _tag: "InvalidMfaCode", reason: "used" })

    const fresh = await ok(rpc(b, (c) => c.RegenerateBackupCodes({ password }), token))
    expect(fresh.backupCodes.filter((code) => backupCodes.includes(code))).toEqual([])
    expect(await failure(rpc(a, (c) => c.DisableMfa({ password: "not the password" }), token))).toMatchObject({ _tag: "InvalidCredentials" })
    expect(await failure(rpc(a, (c) => c.DisableMfa({}), token))).toMatchObject({ _tag: "InvalidRequest" })
    expect(await ok(rpc(a, (c) => c.DisableMfa({ password }), token))).toEqual({ totp: "off" })
    expect((await ok(rpc(b, (c) => c.Login({ username: "rpc-mia", password })))).userId).toBe(registered.userId)
    expect(await failure(rpc(a, (c) => c.GetMfaStatus({})))).toMatchObject({ _tag: "Unauthorized" })
  }, 90_000)
})
