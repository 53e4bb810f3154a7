/**
 * `withMembership` (the User entity's channel list, kept sorted without a
 * sort per change) against the obvious definition: filter, push, sort.
 */
import { describe, expect, it } from "vitest"
import { FastCheck as fc } from "effect"
import { ChannelId } from "../../domain/Ids.ts"
import { withMembership } from "../../src/entities/UserEntity.ts"

const channelId = fc.stringMatching(/^c_[A-Za-z0-9_-]{1,3}$/).map((s) => ChannelId.make(s))

describe("withMembership", () => {
  it("gives the same sorted, duplicate-free list as filter + push + sort, over any sequence of changes", () => {
    fc.assert(fc.property(fc.array(fc.tuple(channelId, fc.boolean()), { maxLength: 60 }), (changes) => {
      let fast: ReadonlyArray<ChannelId> = []
      let slow: Array<ChannelId> = []
      for (const [id, member] of changes) {
        fast = withMembership(fast, id, member)
        slow = slow.filter((c) => c !== id)
        if (member) slow.push(id)
        slow.sort()
        expect(fast).toEqual(slow)
      }
    }))
  })

  it("returns the same array when nothing changes", () => {
    const list = [ChannelId.make("c_a"), ChannelId.make("c_b")]
    expect(withMembership(list, ChannelId.make("c_a"), true)).toBe(list)
    expect(withMembership(list, ChannelId.make("c_c"), false)).toBe(list)
  })
})
