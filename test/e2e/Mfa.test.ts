/**
 * Multi-factor sign-in end to end: two real node processes on one real
 * Postgres, REST over fetch, TOTP codes computed by the test with
 * `otpauth` from the enrolment's URI (as an authenticator app would). Each
 * test has its own account, and every refusal is checked in SQL to have
 * written nothing but the challenge's attempt count.
 */
import pg from "pg"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { type Answer, authClient, call, type TokenPair } from "../fixtures/AuthClient.ts"
import { authenticator, type Authenticator, expectAnswer, mfaClient } from "../fixtures/MfaClient.ts"
import { type NodeProcess, startNode } from "../fixtures/NodeProcess.ts"
import { makeTestDatabase, type TestDatabase } from "../fixtures/TestDatabase.ts"

const password = "a long and unusual passphrase"
/** Has the shape of a backup code but is none of anyone's. */
const wrongCode = "zzzz-zzzz-zzzz-zzzz"

const expectNoStore = (answer: Answer) => expect(answer.headers.get("cache-control")).toBe("no-store")

describe("multi-factor sign-in on two nodes", () => {
  let db: TestDatabase
  let a: NodeProcess
  let b: NodeProcess
  let sql: pg.Client

  const one = async (text: string, params: Array<unknown>) => (await sql.query(text, params)).rows[0]
  /** What a second step may write, for one account: sessions, refresh tokens, the TOTP row, the backup codes. */
  const written = async (userId: string) => ({
    sessions: Number((await one("SELECT count(*) AS n FROM plexi_sessions WHERE user_id = $1", [userId])).n),
    refreshTokens: Number(
      (await one(
        "SELECT count(*) AS n FROM plexi_refresh_tokens t JOIN plexi_sessions s ON s.id = t.session_id WHERE s.user_id = $1",
        [userId]
      )).n
    ),
    totp: await one("SELECT secret_sealed, confirmed_at, last_used_step FROM plexi_mfa_totp WHERE user_id = $1", [userId]),
    backupCodes: (await sql.query("SELECT code_hash, used_at FROM plexi_mfa_backup_codes WHERE user_id = $1 ORDER BY code_hash", [
      userId
    ])).rows
  })
  const attemptsOf = async (userId: string) =>
    (await sql.query("SELECT attempts, ended_reason FROM plexi_mfa_challenges WHERE user_id = $1 ORDER BY created_at", [userId])).rows
  const lastUsedStep = async (userId: string) =>
    Number((await one("SELECT last_used_step FROM plexi_mfa_totp WHERE user_id = $1", [userId])).last_used_step)

  /** Signs up `username` on node a, enrols and confirms TOTP: the token pair, the authenticator and the backup codes. */
  const withMfa = async (username: string) => {
    const pair = await authClient(a.url).signUp(username, password)
    const mfa = mfaClient(a.url)
    const enrolment = expectAnswer(await mfa.enrol(pair.accessToken), 200, "enrol")
    const app = authenticator(enrolment.uri)
    const confirmed = expectAnswer(await mfa.confirm(pair.accessToken, app.now()), 200, "confirm")
    return { pair, app, backupCodes: confirmed.backupCodes as Array<string> }
  }

  /** Password step on `node`: the challenge of its 401 MfaRequired. */
  const challengeOn = async (node: NodeProcess, username: string, deviceName?: string) => {
    const answer = await authClient(node.url).login({ username, password, ...(deviceName === undefined ? {} : { deviceName }) })
    expect(answer.status).toBe(401)
    expect(answer.body._tag).toBe("MfaRequired")
    return answer.body.challenge as string
  }

  /** A code the account has not used yet: the step after the last accepted one. */
  const freshCode = async (app: Authenticator, userId: string) => app.at((await lastUsedStep(userId)) + 1)

  beforeAll(async () => {
    db = await makeTestDatabase()
    expect(db.kind, "these tests need the real Postgres at 127.0.0.1:5432").toBe("postgres")
    a = await startNode({ name: "mfa-a", databaseUrl: db.url })
    b = await startNode({ name: "mfa-b", databaseUrl: db.url })
    sql = new pg.Client({ connectionString: db.url })
    await sql.connect()
  }, 120_000)

  afterAll(async () => {
    await sql?.end()
    await Promise.all([a?.stop(), b?.stop()])
    await db?.drop()
  })

  it("enrols TOTP (pending until confirmed), then signs in in two steps across the nodes, refusing a replayed code", async () => {
    const pair = await authClient(a.url).signUp("alice", password)
    const mfa = mfaClient(a.url)
    const enrolled = await mfa.enrol(pair.accessToken)
    expect(enrolled.status).toBe(200)
    expectNoStore(enrolled)
    const enrolment = enrolled.body
    expect(enrolment.uri).toMatch(/^otpauth:\/\/totp\/PlexiChat:alice\?/)
    expect(enrolment).toMatchObject({ qrPayload: enrolment.uri, algorithm: "SHA1", digits: 6, period: 30 })
    const app = authenticator(enrolment.uri)
    expect(app.secret).toBe(enrolment.secret)
    // The secret is sealed at rest: not in the row in any form we could read.
    const sealed = (await one("SELECT secret_sealed FROM plexi_mfa_totp WHERE user_id = $1", [pair.userId])).secret_sealed as string
    expect(sealed).toMatch(/^v1\.test-mfa-1\./)
    expect(sealed).not.toContain(enrolment.secret)

    // Pending: the password alone still signs in, and status says so.
    expect((await mfa.status(pair.accessToken)).body).toEqual({ totp: "pending", backupCodesLeft: 0 })
    expect((await authClient(b.url).login({ username: "alice", password })).status).toBe(200)

    const wrong = await mfa.confirm(pair.accessToken, "000000" === app.now() ? "111111" : "000000")
    expect(wrong).toMatchObject({ status: 401, body: { _tag: "InvalidMfaCode", reason: "wrong" } })
    expect((await mfa.status(pair.accessToken)).body.totp).toBe("pending")

    const confirmCode = app.now()
    const confirmed = await mfaClient(b.url).confirm(pair.accessToken, confirmCode)
    expect(confirmed.status).toBe(200)
    expectNoStore(confirmed)
    const codes = confirmed.body.backupCodes as Array<string>
    expect(codes).toHaveLength(10)
    expect(new Set(codes).size).toBe(10)
    expect((await mfa.status(pair.accessToken)).body).toEqual({ totp: "on", backupCodesLeft: 10 })
    expect((await mfa.confirm(pair.accessToken, app.now())).body._tag).toBe("TotpNotPending")
    expect((await mfa.enrol(pair.accessToken)).body._tag).toBe("TotpAlreadyEnabled")

    // Step one: the password, on node a. No session or refresh token yet.
    const before = await written(pair.userId)
    const login = await authClient(a.url).login({ username: "alice", password, deviceName: "alice's phone" })
    expect(login.status).toBe(401)
    expectNoStore(login)
    expect(login.body).toMatchObject({ _tag: "MfaRequired", factors: ["totp", "backup_code"] })
    expect(login.body.challenge).toMatch(/^mc_[A-Za-z0-9_-]{43}$/)
    expect(login.body.expiresAt).toBeGreaterThan(Date.now())
    expect(login.body.accessToken).toBeUndefined()
    expect(await written(pair.userId)).toEqual(before)

    // The code the confirmation used is a replay, on the other node too; only the attempt count moves.
    const replayed = await mfaClient(b.url).complete(login.body.challenge, confirmCode)
    expect(replayed.status).toBe(401)
    expect(replayed.body).toMatchObject({ _tag: "InvalidMfaCode", reason: "replayed", attemptsLeft: 4 })
    expect(await written(pair.userId)).toEqual(before)
    expect(await attemptsOf(pair.userId)).toEqual([{ attempts: 1, ended_reason: null }])

    // Step two on node b with the next code: the normal token pair, usable on node a.
    const code = await freshCode(app, pair.userId)
    const completed = await mfaClient(b.url).complete(login.body.challenge, code)
    expect(completed.status).toBe(200)
    expectNoStore(completed)
    const tokens = completed.body as TokenPair
    expect(tokens).toMatchObject({ tokenType: "Bearer", userId: pair.userId, username: "alice" })
    expect((await call(a.url, "GET", "/me", undefined, tokens.accessToken)).body).toMatchObject({ id: pair.userId })
    expect((await authClient(a.url).refresh(tokens.refreshToken)).status).toBe(200)
    const device = await one("SELECT device_name, ip FROM plexi_sessions WHERE id = $1", [tokens.sessionId])
    expect(device).toEqual({ device_name: "alice's phone", ip: "127.0.0.1" })

    // Single use: the completed challenge ends, and the code just used is a replay at a new challenge.
    const again = await mfaClient(a.url).complete(login.body.challenge, code)
    expect(again.body).toMatchObject({ _tag: "InvalidMfaChallenge", reason: "used" })
    const next = await challengeOn(b, "alice")
    const afterSignIn = await written(pair.userId)
    const replayedLater = await mfaClient(a.url).complete(next, code)
    expect(replayedLater.body).toMatchObject({ _tag: "InvalidMfaCode", reason: "replayed" })
    expect(await written(pair.userId)).toEqual(afterSignIn)
  }, 60_000)

  it("ends a challenge after PLEXI_AUTH_MFA_MAX_ATTEMPTS wrong codes, on either node; the right code then writes nothing", async () => {
    const { pair, app } = await withMfa("bob")
    const challenge = await challengeOn(a, "bob")
    const before = await written(pair.userId)
    const left: Array<number> = []
    for (let i = 0; i < 5; i++) {
      const answer = await mfaClient(i % 2 === 0 ? b.url : a.url).complete(challenge, i === 0 ? "12 34 56" : wrongCode)
      expect(answer.status).toBe(401)
      expect(answer.body).toMatchObject({ _tag: "InvalidMfaCode", reason: "wrong" })
      left.push(answer.body.attemptsLeft)
    }
    expect(left).toEqual([4, 3, 2, 1, 0])
    expect(await attemptsOf(pair.userId)).toEqual([{ attempts: 5, ended_reason: "too_many_attempts" }])
    const late = await mfaClient(b.url).complete(challenge, await freshCode(app, pair.userId))
    expect(late.body).toMatchObject({ _tag: "InvalidMfaChallenge", reason: "too_many_attempts" })
    expect(await written(pair.userId)).toEqual(before)
    // A new sign-in gets a new challenge, which the code completes.
    const completed = await mfaClient(a.url).complete(await challengeOn(b, "bob"), await freshCode(app, pair.userId))
    expect(completed.status).toBe(200)
  }, 60_000)

  it("refuses an unknown, an expired and an oversized challenge, and a code of the wrong type, writing nothing", async () => {
    const { pair, app } = await withMfa("cleo")
    const challenge = await challengeOn(a, "cleo")
    const before = await written(pair.userId)
    expect((await mfaClient(b.url).complete("mc_not-one-we-issued", app.now())).body).toMatchObject({
      _tag: "InvalidMfaChallenge",
      reason: "unknown"
    })
    for (const body of [{ challenge, code: "1".repeat(65) }, { challenge: "c".repeat(129), code: "123456" }, { challenge, code: 123456 }, { challenge }]) {
      const answer = await call(b.url, "POST", "/auth/mfa", body)
      expect(answer.status, JSON.stringify(body).slice(0, 60)).toBe(400)
      expectNoStore(answer)
    }
    await sql.query("UPDATE plexi_mfa_challenges SET expires_at = $2 WHERE user_id = $1", [pair.userId, Date.now() - 1])
    const expired = await mfaClient(a.url).complete(challenge, await freshCode(app, pair.userId))
    expect(expired.body).toMatchObject({ _tag: "InvalidMfaChallenge", reason: "expired" })
    expect(await written(pair.userId)).toEqual(before)
    expect(await attemptsOf(pair.userId)).toEqual([{ attempts: 0, ended_reason: null }])
  }, 60_000)

  it("lets one of two completions with the same code at the same moment on two nodes through; the other is a replay", async () => {
    const { pair, app } = await withMfa("dina")
    const [onA, onB] = [await challengeOn(a, "dina"), await challengeOn(b, "dina")]
    const before = await written(pair.userId)
    const code = await freshCode(app, pair.userId)
    const answers = await Promise.all([mfaClient(a.url).complete(onA, code), mfaClient(b.url).complete(onB, code)])
    expect(answers.map((r) => r.status).sort()).toEqual([200, 401])
    expect(answers.find((r) => r.status === 401)!.body).toMatchObject({ _tag: "InvalidMfaCode", reason: "replayed" })
    const after = await written(pair.userId)
    expect(after.sessions).toBe(before.sessions + 1)
    expect(after.refreshTokens).toBe(before.refreshTokens + 1)
  }, 60_000)

  it("accepts each backup code once; a reused one is refused and writes nothing; new codes invalidate the old set", async () => {
    const { pair, backupCodes } = await withMfa("emil")
    // Typed in upper case with spaces for dashes: the same code.
    const typed = backupCodes[0]!.toUpperCase().replace(/-/g, " ")
    const first = await mfaClient(b.url).complete(await challengeOn(a, "emil"), typed)
    expect(first.status).toBe(200)
    expect((await mfaClient(a.url).status(pair.accessToken)).body).toEqual({ totp: "on", backupCodesLeft: 9 })

    const challenge = await challengeOn(b, "emil")
    const before = await written(pair.userId)
    const reused = await mfaClient(a.url).complete(challenge, backupCodes[0])
    expect(reused.status).toBe(401)
    expect(reused.body).toMatchObject({ _tag: "InvalidMfaCode", reason: "used", attemptsLeft: 4 })
    expect(await written(pair.userId)).toEqual(before)
    // Stored as SHA-256 hex only.
    expect(before.backupCodes.every((row: { code_hash: string }) => /^[0-9a-f]{64}$/.test(row.code_hash))).toBe(true)
    expect(JSON.stringify(before.backupCodes)).not.toContain(backupCodes[1]!.replace(/-/g, ""))

    // New codes need a proof: exactly one of a code and the password, and a right one.
    const mfa = mfaClient(a.url)
    expect((await mfa.regenerate(pair.accessToken, {})).status).toBe(400)
    expect((await mfa.regenerate(pair.accessToken, { password, code: backupCodes[1] })).status).toBe(400)
    expect((await mfa.regenerate(pair.accessToken, { password: "not the password" })).body._tag).toBe("InvalidCredentials")
    expect(await written(pair.userId)).toEqual(before)
    const regenerated = await mfa.regenerate(pair.accessToken, { password })
    expect(regenerated.status).toBe(200)
    expectNoStore(regenerated)
    const fresh = regenerated.body.backupCodes as Array<string>
    expect(fresh).toHaveLength(10)
    expect(fresh.filter((code) => backupCodes.includes(code))).toEqual([])
    expect((await mfa.status(pair.accessToken)).body.backupCodesLeft).toBe(10)

    const old = await mfaClient(b.url).complete(challenge, backupCodes[1])
    expect(old.body).toMatchObject({ _tag: "InvalidMfaCode", reason: "wrong", attemptsLeft: 3 })
    expect((await mfaClient(b.url).complete(challenge, fresh[0])).status).toBe(200)
  }, 60_000)

  it("turns MFA off with a current code or the password (not a wrong one); sign-in is then one step again", async () => {
    const { pair, app, backupCodes } = await withMfa("finn")
    const mfa = mfaClient(b.url)
    const before = await written(pair.userId)
    expect((await mfa.disable(pair.accessToken, { code: wrongCode })).body).toMatchObject({ _tag: "InvalidMfaCode", reason: "wrong" })
    expect((await mfa.disable(pair.accessToken, { password: "not the password" })).body._tag).toBe("InvalidCredentials")
    expect(await written(pair.userId)).toEqual(before)
    const off = await mfa.disable(pair.accessToken, { code: await freshCode(app, pair.userId) })
    expect(off).toMatchObject({ status: 200, body: { totp: "off" } })
    const gone = await written(pair.userId)
    expect([gone.totp, gone.backupCodes]).toEqual([undefined, []])
    expect((await mfa.disable(pair.accessToken, { password })).body._tag).toBe("MfaNotEnabled")
    expect((await mfa.regenerate(pair.accessToken, { password })).body._tag).toBe("MfaNotEnabled")
    expect((await authClient(a.url).login({ username: "finn", password })).status).toBe(200)
    // A backup code of the old set is nothing now.
    expect((await mfa.disable(pair.accessToken, { code: backupCodes[0] })).body._tag).toBe("MfaNotEnabled")

    // And with the password, after enabling again.
    const enrolment = expectAnswer(await mfa.enrol(pair.accessToken), 200, "enrol again")
    const again = authenticator(enrolment.uri)
    expect(again.secret).not.toBe(app.secret)
    expectAnswer(await mfa.confirm(pair.accessToken, again.now()), 200, "confirm again")
    expect((await authClient(a.url).login({ username: "finn", password })).body._tag).toBe("MfaRequired")
    expect((await mfa.disable(pair.accessToken, { password })).body).toEqual({ totp: "off" })
    expect((await authClient(a.url).login({ username: "finn", password })).status).toBe(200)
  }, 60_000)

  it("needs an access token for the MFA settings and lists the MFA operations in the OpenAPI document", async () => {
    for (const [method, path] of [["GET", "/auth/mfa/status"], ["POST", "/auth/totp"], ["POST", "/auth/backup-codes"]] as const) {
      const answer = await call(a.url, method, path, method === "POST" && path !== "/auth/totp" ? { password } : undefined)
      expect(answer.status, path).toBe(401)
      expectNoStore(answer)
    }
    const spec = (await call(a.url, "GET", "/openapi.json")).body
    for (const path of ["/api/v1/auth/mfa", "/api/v1/auth/mfa/status", "/api/v1/auth/totp", "/api/v1/auth/totp/confirm", "/api/v1/auth/totp/disable", "/api/v1/auth/backup-codes"]) {
      expect(Object.keys(spec.paths), path).toContain(path)
    }
    expect(JSON.stringify(spec.paths["/api/v1/auth/login"].post.responses["401"])).toContain("MfaRequired")
  })
})
