/**
 * An HTTP request fuzzer for `/api/v1/*` and `/rpc`, written from the OpenAPI
 * document the node serves, the README and the RPC contract (domain/Api.ts),
 * run against a real node process over raw sockets. Every response must be a
 * documented status with a typed JSON body (never a 500, never a dropped
 * connection); a canary posting throughout must get every post acknowledged;
 * the node must stay the same process. Bounded like the frame fuzzer
 * (`FUZZ_MS_PER_PROPERTY`, `FUZZ_SEED`).
 */
import fc from "fast-check"
import { afterAll, beforeAll, describe, it } from "vitest"
import { devToken, rest } from "../fixtures/Clients.ts"
import { fuzzRun, msPerProperty } from "./fixtures/FuzzRun.ts"
import { LiveNode } from "./fixtures/LiveNode.ts"
import { loadContract } from "./fixtures/OpenApiContract.ts"
import { type FuzzRequest, oddRequest, restRequest, type RequestWorld, rpcRequest } from "./fixtures/RequestArbitraries.ts"
import { RequestHarness } from "./fixtures/RequestHarness.ts"

const live = new LiveNode()
let world: RequestWorld
let preparedFor = -1

/** The contract, a user and its channels, fetched and set up as any client would; redone after a node death. */
const prepare = async (): Promise<void> => {
  const pid = await live.ensure()
  if (preparedFor === pid) return
  const { url } = live.node
  const token = await devToken(url, "req-fuzzer")
  const mine = rest(url, token)
  const ownChannels = [(await mine.createChannel("req public")).id, (await mine.createChannel("req private", "private")).id]
  world = { operations: await loadContract(url), token, ownChannels }
  preparedFor = pid
}

const requests = (name: string, seedOffset: number, arbitrary: (w: RequestWorld) => fc.Arbitrary<FuzzRequest>) =>
  it(name, async () => {
    await prepare()
    let harness: RequestHarness | undefined
    await fuzzRun({
      live,
      name,
      seedOffset,
      arbitrary: arbitrary(world),
      setup: async (pid) => {
        harness = new RequestHarness(live, pid, world.operations)
        return { run: (r) => harness!.exchange(r), runs: () => harness!.runs, teardown: () => {} }
      }
    })
  }, msPerProperty + 90_000)

describe("HTTP request fuzzer (from the OpenAPI document and the RPC contract)", () => {
  // Longer than startNode's own 60 s start limit, so that a node that never starts is killed by the fixture, not orphaned.
  beforeAll(() => live.ensure(), 90_000)
  afterAll(() => live.stop(), 30_000)

  requests(
    "header values with bytes that are not UTF-8 get a documented response on every REST operation and /rpc",
    11,
    (w) => fc.oneof(restRequest(w, true), rpcRequest(w, true))
  )
  requests(
    "nested, deep, huge, multipart and garbage bodies, wrong content types, bad ids and query parameters get a documented response",
    12,
    (w) => restRequest(w, false)
  )
  requests(
    "bad RPC payloads, ids and messages (NDJSON) get typed errors, never defects",
    13,
    (w) => rpcRequest(w, false)
  )
  requests(
    "odd methods and unlisted paths get 400, 404 or 405, never a server error",
    14,
    (w) => oddRequest(w)
  )
})
