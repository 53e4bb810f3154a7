/**
 * The hand-checked `post` frame (src/gateway/PostFrameCheck.ts) against the schema it stands in for: for generated
 * frames, valid and hostile alike, it accepts exactly what `PostFrame`'s decode accepts and returns the same value;
 * and the gateway's decoder gives the same result with and without it (refusals are the schema's).
 */
import { describe, expect, it } from "@effect/vitest"
import { Either, Schema } from "effect"
import fc from "fast-check"
import { isRef, PostFrame, Ref } from "../../domain/Protocol.ts"
import { checkPostFrame } from "../../src/gateway/PostFrameCheck.ts"
import { makeFrameDecoder } from "../../src/gateway/FrameDecoder.ts"

const schemaDecode = Schema.decodeUnknownEither(PostFrame, { errors: "all", onExcessProperty: "ignore" })

const idChars = "abcXYZ019_.:-"
const text = (max: number) =>
  fc.oneof(
    fc.string({ minLength: 0, maxLength: 8 }),
    fc.string({ unit: "grapheme", minLength: 1, maxLength: 12 }),
    fc.constantFrom("", "a", "\u0000", "x\u0000y", "\ud800", "a\udc00b", "😀", "é", " ", "a".repeat(max), "a".repeat(max + 1), "😀".repeat(max / 2), `${"a".repeat(max - 1)}😀`),
    fc.string({ minLength: max - 2, maxLength: max + 2 })
  )
const hostile = fc.oneof(fc.integer(), fc.boolean(), fc.constant(null), fc.array(fc.string(), { maxLength: 2 }), fc.object({ maxDepth: 1 }), fc.double())
const channelId = fc.oneof(
  fc.string({ unit: fc.constantFrom(...idChars), minLength: 1, maxLength: 70 }),
  fc.constantFrom("", "c_abc", "c abc", "c/abc", "ü", "a".repeat(64), "a".repeat(65)),
  fc.string({ maxLength: 10 })
)
const maybe = <A>(arb: fc.Arbitrary<A>) => fc.option(fc.oneof(arb, hostile), { nil: undefined, freq: 4 })

const frames = fc.record({
  channelId: maybe(channelId),
  clientMsgId: maybe(text(64)),
  body: maybe(text(4000)),
  ref: maybe(text(64)),
  extra: fc.option(fc.string(), { nil: undefined })
}).map(({ extra, ...fields }) => {
  const frame: Record<string, unknown> = { type: "post" }
  for (const [k, v] of Object.entries(fields)) if (v !== undefined) frame[k] = v
  if (extra !== undefined) frame.extra = extra
  return frame
})

describe("checkPostFrame", () => {
  it("accepts exactly what PostFrame's decode accepts, with the same value", () => {
    fc.assert(
      fc.property(frames, (frame) => {
        const expected = schemaDecode(frame)
        const checked = checkPostFrame(frame)
        if (Either.isRight(expected)) expect(checked).toStrictEqual(expected.right)
        else expect(checked).toBeUndefined()
      }),
      { numRuns: 3000 }
    )
  })

  it("accepts a valid frame (the generated frames include many)", () => {
    expect(checkPostFrame({ type: "post", channelId: "c_1", clientMsgId: "m1", body: "hi", ref: "r" })).toStrictEqual({
      type: "post",
      channelId: "c_1",
      clientMsgId: "m1",
      body: "hi",
      ref: "r"
    })
    expect(checkPostFrame({ type: "post", channelId: "c_1", clientMsgId: "m1", body: "a\u0000" })).toBeUndefined()
  })

  it("the ref check is Ref's", () => {
    const schemaIsRef = Schema.is(Ref)
    for (const v of ["", "r", "a".repeat(64), "a".repeat(65), 1, null, undefined, {}, ["a"]]) {
      expect(isRef(v)).toBe(schemaIsRef(v))
    }
  })

  it("the gateway's decoder refuses an invalid post frame with the schema's message", () => {
    const decode = makeFrameDecoder({ maxFrameBytes: 16_384, maxNestingDepth: 8 })
    const bytes = (v: unknown) => new TextEncoder().encode(JSON.stringify(v)).buffer as ArrayBuffer
    expect(decode(bytes({ type: "post", channelId: "c_1", clientMsgId: "m1", body: "hello", ref: "r1" }), false)).toStrictEqual({
      _tag: "Frame",
      frame: { type: "post", channelId: "c_1", clientMsgId: "m1", body: "hello", ref: "r1" }
    })
    const refused = decode(bytes({ type: "post", channelId: "c 1", clientMsgId: "m1", body: "", ref: "r2" }), false)
    expect(refused).toMatchObject({ _tag: "Refused", code: "invalid_frame", ref: "r2" })
    expect((refused as { message: string }).message).toContain("channelId")
    expect((refused as { message: string }).message).toContain("body")
  })
})
