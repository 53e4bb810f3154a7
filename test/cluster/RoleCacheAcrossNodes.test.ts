/**
 * A workspace role change made through node A takes effect in a Channel
 * entity running on node B within the documented bound: B caches roles for
 * `ROLE_CACHE_TTL_MS` (2 s, docs/SECURITY.md "Roles"), and A's change drops
 * only A's cache. Two real node processes on one real Postgres; the channel
 * is one whose shard B owns; the check is a read of the public channel by a
 * non-member, which the entity allows a member and refuses a guest.
 */
import { describe, expect, it, vi } from "vitest"
import { ROLE_CACHE_TTL_MS } from "../../src/roles/WorkspaceRoles.ts"
import { authClient, call, type TokenPair } from "../fixtures/AuthClient.ts"
import { ownerOf, waitUntil } from "../fixtures/ClusterHelpers.ts"
import type { NodeProcess } from "../fixtures/NodeProcess.ts"
import { postgresPairForSuite } from "../fixtures/PostgresPair.ts"

const password = "a long and unusual passphrase"
/** The documented bound, plus a margin for a loaded machine (the poll, the request, scheduling). */
const BOUND_MS = ROLE_CACHE_TTL_MS + 1500

describe("a workspace role change on another node", () => {
  const pair = postgresPairForSuite("role-cache")

  /** A public channel of `owner` whose entity runs on `node` (created until the shard ring puts one there). */
  const channelOn = async (node: NodeProcess, owner: TokenPair) => {
    for (let i = 0; i < 40; i++) {
      const created = await call(pair.a().url, "POST", "/channels", { name: `rc-${i}-${Date.now().toString(36)}` }, owner.accessToken)
      expect(created.status, JSON.stringify(created.body)).toBe(201)
      const at = await waitUntil("the channel's owner", () => ownerOf([pair.a(), pair.b()], created.body.id))
      if (at === node) return created.body.id as string
    }
    throw new Error(`no channel landed on ${node.name} in 40 tries`)
  }

  it("is enforced by the Channel entity on node B within the 2 s cache time, refused before and allowed after, both ways", async () => {
    const owner = await authClient(pair.a().url).signUp("rc-owner", password)
    const user = await authClient(pair.a().url).signUp("rc-user", password)
    const setRole = async (role: string) => {
      const answer = await call(pair.a().url, "POST", `/admin/users/${user.userId}/role`, { role }, owner.accessToken)
      expect(answer.status, JSON.stringify(answer.body)).toBe(200)
    }
    await setRole("guest")
    const channelId = await channelOn(pair.b(), owner)
    const read = () => call(pair.b().url, "GET", `/channels/${channelId}/messages`, undefined, user.accessToken)

    // A guest, not a member: refused by the entity on B (which now caches "guest").
    const before = await read()
    expect(before.status).toBe(403)
    expect(before.body._tag).toBe("NotAMember")

    // Promoted through A: B reads the new role once its cached entry expires.
    const promotedAt = performance.now()
    await setRole("member")
    await vi.waitFor(async () => expect((await read()).status).toBe(200), { timeout: BOUND_MS, interval: 100 })
    const promotion = performance.now() - promotedAt

    // Demoted through A while B caches "member": the read is refused again within the bound.
    const demotedAt = performance.now()
    await setRole("guest")
    await vi.waitFor(async () => expect((await read()).body?._tag).toBe("NotAMember"), { timeout: BOUND_MS, interval: 100 })
    const demotion = performance.now() - demotedAt
    console.log(`role change through A enforced on B after: promotion ${promotion.toFixed(0)} ms, demotion ${demotion.toFixed(0)} ms`)
    expect(Math.max(promotion, demotion)).toBeLessThan(BOUND_MS)
  }, 120_000)
})
