/**
 * Login protection over REST on a real node with small limits: a
 * brute-force run meets the progressive delay and then the lock (typed,
 * 429 with Retry-After, no session written), an owner unlocks the account
 * (a member may not), and registrations per address are limited.
 */
import { describe, expect, it, vi } from "vitest"
import { type Answer, authClient, call } from "../fixtures/AuthClient.ts"
import { nodeForSuite } from "../fixtures/NodeSuite.ts"

const password = "correct horse battery"

describe("login protection", () => {
  const node = nodeForSuite({
    env: {
      PLEXI_LOGIN_DELAY_AFTER: "2",
      PLEXI_LOGIN_DELAY_BASE: "200 millis",
      PLEXI_LOGIN_DELAY_MAX: "400 millis",
      PLEXI_LOGIN_LOCK_AFTER: "5",
      PLEXI_LOGIN_LOCK_DURATION: "10 minutes"
    }
  })

  it("delays a brute-force run after 2 failures, locks it after 5, and an owner's unlock lets the right password in; a member gets Forbidden", async () => {
    const auth = authClient(node().url)
    const owner = await auth.signUp("lp-owner", password)
    const member = await auth.signUp("lp-member", password)
    const victim = await auth.signUp("lp-victim", password)
    expect(owner.role).toBe("owner")
    const tags: Array<string> = []
    const delays: Array<number> = []
    let locked: Answer | undefined
    for (let guess = 0; locked === undefined && guess < 20; guess++) {
      // A delayed attempt is refused unchecked and not counted: try again until the delay is over.
      const answer = await vi.waitFor(async () => {
        const r = await auth.login({ username: "lp-victim", password: `wrong guess ${guess}` })
        if (r.status === 429 && r.body._tag === "RateLimited") {
          delays.push(r.body.retryAfterMs)
          expect(r.headers.get("retry-after")).toBe("1")
          throw new Error("delayed")
        }
        return r
      }, { timeout: 10_000, interval: 50 })
      if (answer.body._tag === "SignInLocked") locked = answer
      else tags.push(answer.body._tag)
    }
    expect(tags).toEqual(Array(5).fill("InvalidCredentials"))
    expect(delays.length).toBeGreaterThan(0)
    for (const d of delays) expect(d).toBeLessThanOrEqual(400)
    expect(locked!.status).toBe(429)
    expect(locked!.body).toMatchObject({ _tag: "SignInLocked", scope: "account" })
    expect(Number(locked!.headers.get("retry-after"))).toBeGreaterThan(9 * 60)
    // The right password is refused too while the lock holds.
    expect((await auth.login({ username: "lp-victim", password })).body._tag).toBe("SignInLocked")

    const unlock = (token: string) => call(node().url, "POST", `/admin/users/${victim.userId}/unlock`, undefined, token)
    const denied = await unlock(member.accessToken)
    expect(denied.status).toBe(403)
    expect(denied.body._tag).toBe("Forbidden")
    expect((await auth.login({ username: "lp-victim", password })).body._tag).toBe("SignInLocked")
    const unlocked = await unlock(owner.accessToken)
    expect(unlocked.status).toBe(200)
    expect(unlocked.body).toMatchObject({ userId: victim.userId })
    expect(unlocked.body.cleared).toBeGreaterThan(0)
    const back = await auth.signIn("lp-victim", password)
    // No failed attempt left a session: the registration's and this sign-in's only.
    const sessions = await auth.sessions(back.accessToken)
    expect(sessions.body.map((s: { id: string }) => s.id).sort()).toEqual([victim.sessionId, back.sessionId].sort())
    // An unknown account: 404.
    expect((await call(node().url, "POST", "/admin/users/u_nobody/unlock", undefined, owner.accessToken)).status).toBe(404)
  }, 60_000)
})

describe("registration and refresh limits per address", () => {
  const node = nodeForSuite({
    env: { PLEXI_REGISTER_IP_BURST: "3", PLEXI_REGISTER_IP_REFILL: "1 hours", PLEXI_REFRESH_IP_BURST: "2", PLEXI_REFRESH_IP_REFILL: "1 hours" }
  })

  it("refuses the 4th registration from one address with 429 RateLimited and Retry-After, and creates no account", async () => {
    const auth = authClient(node().url)
    // A refused weak password costs no token.
    expect((await auth.register({ username: "reg-limit-weak", password: "password1" })).body._tag).toBe("WeakPassword")
    for (let i = 0; i < 3; i++) await auth.signUp(`reg-limit-${i}`, password)
    const refused = await auth.register({ username: "reg-limit-3", password })
    expect(refused.status).toBe(429)
    expect(refused.body._tag).toBe("RateLimited")
    expect(refused.body.retryAfterMs).toBeGreaterThan(60 * 60_000 - 60_000)
    expect(Number(refused.headers.get("retry-after"))).toBe(Math.ceil(refused.body.retryAfterMs / 1000))
    expect((await auth.login({ username: "reg-limit-3", password })).body._tag).toBe("InvalidCredentials")
  }, 60_000)

  it("refuses the 3rd token refresh from one address with 429 RateLimited, before the token is looked at", async () => {
    const auth = authClient(node().url)
    // Unknown tokens count as refreshes too (no account needed: this suite's registrations are limited).
    const first = await auth.refresh("a".repeat(43))
    expect(first.body._tag).toBe("InvalidRefreshToken")
    const second = await auth.refresh("b".repeat(43))
    expect(second.body._tag).toBe("InvalidRefreshToken")
    const third = await auth.refresh("c".repeat(43))
    expect(third.status).toBe(429)
    expect(third.body._tag).toBe("RateLimited")
    expect(Number(third.headers.get("retry-after"))).toBeGreaterThan(60)
  }, 60_000)
})
