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
import { describe } from "vitest"
import { signedIn } from "../fixtures/AuthClient.ts"
import { rest } from "../fixtures/Clients.ts"
import { fuzzSuite } from "./fixtures/FuzzSuite.ts"
import { loadContract } from "./fixtures/OpenApiContract.ts"
import { type FuzzRequest, oddRequest, restRequest, type RequestWorld, rpcRequest } from "./fixtures/RequestArbitraries.ts"
import { RequestHarness } from "./fixtures/RequestHarness.ts"

describe("HTTP request fuzzer (from the OpenAPI document and the RPC contract)", () => {
  /** The contract, a user and its channels, fetched and set up as any client would; redone after a node death. */
  const suite = fuzzSuite(async ({ url }): Promise<RequestWorld> => {
    const { token } = await signedIn(url, "req-fuzzer")
    const mine = rest(url, token)
    const ownChannels = [(await mine.createChannel("req public")).id, (await mine.createChannel("req private", "private")).id]
    return { operations: await loadContract(url), token, ownChannels }
  })

  const requests = (name: string, seedOffset: number, arbitrary: (w: RequestWorld) => fc.Arbitrary<FuzzRequest>) =>
    suite.property(name, seedOffset, arbitrary, (live, pid, world) => {
      const harness = new RequestHarness(live, pid, world.operations)
      return { run: (r) => harness.exchange(r), runs: () => harness.runs, teardown: () => {} }
    })

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
