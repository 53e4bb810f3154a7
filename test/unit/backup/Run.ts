/** Runs the crypto layer's synchronous effects in tests: the value, or the failure it ends with. */
import { Effect } from "effect"

export const run = <A, E>(effect: Effect.Effect<A, E>): A => Effect.runSync(effect)

export const failure = <A, E>(effect: Effect.Effect<A, E>): E => Effect.runSync(Effect.flip(effect))

/** `bytes` with bit `bit` (0 = the first byte's lowest) flipped. */
export const flipped = (bytes: Uint8Array, bit: number): Uint8Array => {
  const copy = Uint8Array.from(bytes)
  copy[bit >> 3]! ^= 1 << (bit & 7)
  return copy
}
