/**
 * Argon2id password hashes (`@node-rs/argon2`). Its async `hash` and
 * `verify` run as N-API async work, that is on libuv's thread pool, never
 * on the JavaScript thread, so a burst of sign-ins does not stall fan-out
 * (test/unit/PasswordHasher.test.ts measures the event loop during hashes).
 * At most `concurrency` hashes run at once on a node: the pool (4 threads
 * by default) is shared with file and DNS work, and each hash holds
 * `memoryKib` of memory while it runs; more callers wait their turn.
 */
import { randomBytes } from "node:crypto"
import { type Algorithm, hash, parseOptions, verify } from "@node-rs/argon2"
import { Effect } from "effect"
import type { Argon2Cost } from "./AuthConfig.ts"

// `Algorithm.Argon2id` is an ambient const enum, which isolated modules cannot read: its value is 2.
const ARGON2ID = 2 as Algorithm

export interface PasswordHasher {
  readonly hash: (password: string) => Effect.Effect<string>
  /** Whether `password` matches the stored `hashed` (a PHC string). */
  readonly verify: (hashed: string, password: string) => Effect.Effect<boolean>
  /**
   * The same work as `verify` against a hash of nobody's password, so that
   * an unknown username costs as much time as a wrong password.
   */
  readonly verifyNobody: (password: string) => Effect.Effect<void>
  /** Whether `hashed` was made with another cost than the configured one (it is then rehashed at the next sign-in). */
  readonly needsRehash: (hashed: string) => boolean
}

/**
 * The stored "hash" of an account without a password (made by an OpenID
 * Connect sign-in): no password verifies against it, after the same work
 * as a wrong one.
 */
export const NO_PASSWORD = "!"

export const makePasswordHasher = (cost: Argon2Cost, concurrency: number): Effect.Effect<PasswordHasher> =>
  Effect.gen(function*() {
    const options = { algorithm: ARGON2ID, memoryCost: cost.memoryKib, timeCost: cost.timeCost, parallelism: cost.parallelism }
    const permits = yield* Effect.makeSemaphore(concurrency)
    const limited = <A>(f: (signal: AbortSignal) => Promise<A>) => permits.withPermits(1)(Effect.promise(f))

    const hashOf = (password: string) => limited((signal) => hash(password, options, signal))
    const check = (hashed: string, password: string) => limited((signal) => verify(hashed, password, options, signal))
    const nobody = yield* hashOf(randomBytes(32).toString("base64url"))

    return {
      hash: hashOf,
      verify: (hashed, password) => hashed === NO_PASSWORD ? Effect.as(check(nobody, password), false) : check(hashed, password),
      verifyNobody: (password) => Effect.asVoid(check(nobody, password)),
      needsRehash: (hashed) => {
        try {
          const used = parseOptions(hashed)
          return used.algorithm !== ARGON2ID || used.memoryCost !== cost.memoryKib || used.timeCost !== cost.timeCost ||
            used.parallelism !== cost.parallelism
        } catch {
          return true
        }
      }
    }
  })
