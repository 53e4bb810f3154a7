/**
 * A WebSocket frame fuzzer written from docs/PROTOCOL.md and the frame
 * schemas of domain/Protocol.ts only, run against a real node process.
 * Every frame must get a documented answer (a reply, an `error` frame with a
 * documented code, or a documented close code), never a dropped connection
 * (except where PROTOCOL.md documents one for the node's engine: a text frame
 * that is not UTF-8 on `uws-native`);
 * a canary posting throughout must get every post acknowledged; the node must
 * stay the same process. Bounded: each property runs `FUZZ_MS_PER_PROPERTY`
 * (3 s by default); the seed is fixed and printed (`FUZZ_SEED` replays).
 */
import fc from "fast-check"
import { afterAll, beforeAll, describe, it } from "vitest"
import { devToken, rest } from "../fixtures/Clients.ts"
import {
  binaryInput,
  type FrameInput,
  frameText,
  type FrameWorld,
  garbageText,
  invalidUtf8Input,
  oversizeInput,
  socketKind,
  textInput
} from "./fixtures/FrameArbitraries.ts"
import { FrameHarness } from "./fixtures/FrameHarness.ts"
import { FuzzSocket } from "./fixtures/FuzzSocket.ts"
import { fuzzRun, msPerProperty } from "./fixtures/FuzzRun.ts"
import { LiveNode } from "./fixtures/LiveNode.ts"
import { showBytes, shown } from "./fixtures/Show.ts"

const live = new LiveNode()
let world: FrameWorld
let restTokens: Record<string, string>

/** Users, channels and the frame limit, set up over REST as any client would; redone when a property killed the node. */
const prepare = async (): Promise<void> => {
  const pid = await live.ensure()
  if (world !== undefined && preparedFor === pid) return
  const { url, wsUrl } = live.node
  const token = await devToken(url, "fuzzer")
  const otherToken = await devToken(url, "fuzz-other")
  const mine = rest(url, token)
  const theirs = rest(url, otherToken)
  const own = [(await mine.createChannel("fuzz public")).id, (await mine.createChannel("fuzz private", "private")).id]
  const foreign = [(await theirs.createChannel("other public")).id, (await theirs.createChannel("other private", "private")).id]
  const probe = await FuzzSocket.open(wsUrl, "probe")
  const maxFrameBytes = Number(probe.hello?.maxFrameBytes ?? 65_536)
  probe.close()
  world = { ownChannels: own, foreignChannels: foreign, token, otherToken, maxFrameBytes }
  restTokens = { fuzzer: token, "fuzz-other": otherToken }
  preparedFor = pid
}
let preparedFor = -1

const frames = (name: string, seedOffset: number, arbitrary: (w: FrameWorld) => fc.Arbitrary<FrameInput>) =>
  it(name, async () => {
    await prepare()
    let harness: FrameHarness | undefined
    await fuzzRun({
      live,
      name,
      seedOffset,
      arbitrary: arbitrary(world),
      setup: async (pid) => {
        harness = new FrameHarness(live, pid, world, restTokens)
        return { run: (input) => harness!.exchange(input), runs: () => harness!.runs, teardown: () => harness!.closeAll() }
      }
    })
  }, msPerProperty + 90_000)

describe("WebSocket frame fuzzer (from docs/PROTOCOL.md)", () => {
  // Longer than startNode's own 60 s start limit, so that a node that never starts is killed by the fixture, not orphaned.
  beforeAll(() => live.ensure(), 90_000)
  afterAll(() => live.stop(), 30_000)

  frames(
    "frames whose fields (and type) take every JSON type and prototype keys get a documented answer",
    1,
    (w) => textInput(frameText(w, ["typeConfusion"]))
  )
  frames(
    "NUL, lone surrogates and over-long strings in every string field get a documented answer, and acked posts read back exactly",
    2,
    (w) => textInput(frameText(w, ["string"]))
  )
  frames(
    "huge, negative, fractional and exponent numbers in seq and limit fields get a documented answer",
    3,
    (w) => textInput(frameText(w, ["number"]))
  )
  frames(
    "frames nested thousands of levels deep (within the frame limit) and non-object frames get a documented answer",
    4,
    (w) => fc.oneof(textInput(frameText(w, ["deep"])), textInput(garbageText))
  )
  frames(
    "text frames that are not UTF-8 end the socket unanswered, as PROTOCOL.md's close-code table gives for the node's engine",
    5,
    (w) => invalidUtf8Input(w)
  )
  frames(
    "binary frames, frames above the frame limit and fragmented frames get their documented answers",
    6,
    (w) => fc.oneof(binaryInput, oversizeInput(w), textInput(frameText(w, ["valid"])))
  )

  it("random interleavings of valid and invalid frames, before and after auth, get documented answers", async () => {
    await prepare()
    let harness: FrameHarness | undefined
    const frame = fc.oneof(
      { arbitrary: frameText(world, ["valid"]), weight: 3 },
      { arbitrary: frameText(world, ["typeConfusion", "string", "number", "deep"]), weight: 3 },
      { arbitrary: garbageText, weight: 1 }
    ).map((t) => Buffer.from(t.text, "utf8"))
    await fuzzRun({
      live,
      name: "interleavings",
      seedOffset: 7,
      arbitrary: fc.tuple(socketKind, fc.array(frame, { minLength: 2, maxLength: 12 })).map(([kind, burst]) =>
        shown({ kind, burst }, (b) => `burst on the ${b.kind} socket: ${b.burst.map(showBytes).join(" , ")}`)
      ),
      setup: async (pid) => {
        harness = new FrameHarness(live, pid, world, restTokens)
        return {
          run: ({ kind, burst }) => harness!.burst(kind, burst),
          runs: () => harness!.runs,
          teardown: () => harness!.closeAll()
        }
      }
    })
  }, msPerProperty + 90_000)
})
