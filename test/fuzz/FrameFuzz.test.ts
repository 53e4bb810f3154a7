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
import { describe } from "vitest"
import { signedIn } from "../fixtures/AuthClient.ts"
import { rest } from "../fixtures/Clients.ts"
import type { NodeProcess } from "../fixtures/NodeProcess.ts"
import {
  binaryInput,
  type FrameInput,
  frameText,
  type FrameWorld,
  garbageText,
  invalidUtf8Input,
  oversizeInput,
  socketKind,
  type SocketKind,
  textInput
} from "./fixtures/FrameArbitraries.ts"
import { FrameHarness } from "./fixtures/FrameHarness.ts"
import { FuzzSocket } from "./fixtures/FuzzSocket.ts"
import type { PropertyState } from "./fixtures/FuzzRun.ts"
import { fuzzSuite } from "./fixtures/FuzzSuite.ts"
import type { LiveNode } from "./fixtures/LiveNode.ts"
import { showBytes, shown } from "./fixtures/Show.ts"

/** Frames sent back to back on one socket. */
interface Burst {
  readonly kind: SocketKind
  readonly burst: ReadonlyArray<Buffer>
}

interface Suite {
  readonly world: FrameWorld
  readonly restTokens: Record<string, string>
}

/** Users, channels and the frame limit, set up over REST as any client would; redone when a property killed the node. */
const prepare = async ({ url, wsUrl }: NodeProcess): Promise<Suite> => {
  const { token, userId } = await signedIn(url, "fuzzer")
  const { token: otherToken, userId: otherId } = await signedIn(url, "fuzz-other")
  const mine = rest(url, token)
  const theirs = rest(url, otherToken)
  const own = [(await mine.createChannel("fuzz public")).id, (await mine.createChannel("fuzz private", "private")).id]
  const foreign = [(await theirs.createChannel("other public")).id, (await theirs.createChannel("other private", "private")).id]
  const probe = await FuzzSocket.open(wsUrl, "probe")
  const maxFrameBytes = Number(probe.hello?.maxFrameBytes ?? 65_536)
  probe.close()
  return {
    world: { ownChannels: own, foreignChannels: foreign, token, otherToken, maxFrameBytes },
    restTokens: { [userId]: token, [otherId]: otherToken }
  }
}

/** A harness for one property; `send` picks how an input goes out (one exchange, or a burst). */
const harnessOf = <T>(send: (harness: FrameHarness, input: T) => Promise<void>) =>
  (live: LiveNode, pid: number, { restTokens, world }: Suite): PropertyState<T> => {
    const harness = new FrameHarness(live, pid, world, restTokens)
    return { run: (input) => send(harness, input), runs: () => harness.runs, teardown: () => harness.closeAll() }
  }

describe("WebSocket frame fuzzer (from docs/PROTOCOL.md)", () => {
  const suite = fuzzSuite(prepare)
  const frames = (name: string, seedOffset: number, arbitrary: (w: FrameWorld) => fc.Arbitrary<FrameInput>) =>
    suite.property(name, seedOffset, (s) => arbitrary(s.world), harnessOf<FrameInput>((h, input) => h.exchange(input)))

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

  suite.property(
    "random interleavings of valid and invalid frames, before and after auth, get documented answers",
    7,
    ({ world }) => {
      const frame = fc.oneof(
        { arbitrary: frameText(world, ["valid"]), weight: 3 },
        { arbitrary: frameText(world, ["typeConfusion", "string", "number", "deep"]), weight: 3 },
        { arbitrary: garbageText, weight: 1 }
      ).map((t) => Buffer.from(t.text, "utf8"))
      return fc.tuple(socketKind, fc.array(frame, { minLength: 2, maxLength: 12 })).map(([kind, burst]): Burst =>
        shown({ kind, burst }, (b) => `burst on the ${b.kind} socket: ${b.burst.map(showBytes).join(" , ")}`)
      )
    },
    harnessOf<Burst>((h, { burst, kind }) => h.burst(kind, burst))
  )
})
