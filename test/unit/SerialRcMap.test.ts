/**
 * The race in effect 3.22's `RcMap.get` that SerialRcMap.ts guards against:
 * concurrent first gets of one key, each fiber yielding every 16 steps,
 * create several entries; through `makeSerialGet` they share one. When the
 * first test fails, the library has fixed its get and the guard can go.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect, RcMap, type Scope } from "effect"
import { makeSerialGet } from "../../src/messaging/hub/SerialRcMap.ts"

const racingGets = <A>(get: (key: string) => Effect.Effect<A, never, Scope.Scope>) =>
  Effect.forEach(Array.from({ length: 8 }), () => get("k"), { concurrency: "unbounded" }).pipe(Effect.withMaxOpsBeforeYield(16))

describe("SerialRcMap", () => {
  it.scoped("RcMap.get: racing first gets of one key create more than one entry", () =>
    Effect.gen(function*() {
      const made: Array<string> = []
      const map = yield* RcMap.make({ lookup: (key: string) => Effect.sync(() => made.push(key)) })
      const got = yield* racingGets((key) => RcMap.get(map, key))
      expect(made.length).toBeGreaterThan(1)
      expect(new Set(got).size).toBeGreaterThan(1)
    }))

  it.scoped("makeSerialGet: the same racing gets share one entry", () =>
    Effect.gen(function*() {
      const made: Array<string> = []
      const map = yield* RcMap.make({ lookup: (key: string) => Effect.sync(() => made.push(key)) })
      const get = yield* makeSerialGet(map)
      const got = yield* racingGets(get)
      expect(made).toEqual(["k"])
      expect(new Set(got)).toEqual(new Set([1]))
    }))
})
