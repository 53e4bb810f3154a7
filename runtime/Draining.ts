/**
 * Whether the node is draining: set once, at the start of a graceful stop
 * (SIGTERM), before the edge closes. Readiness answers `draining` from then on.
 */
import { Context, Effect, Layer } from "effect"

export class Draining extends Context.Tag("plexichat/Draining")<Draining, {
  readonly isDraining: () => boolean
  /** Marks the node as draining (idempotent). */
  readonly begin: Effect.Effect<void>
}>() {
  static readonly layer = Layer.sync(Draining, () => {
    let draining = false
    return { isDraining: () => draining, begin: Effect.sync(() => { draining = true }) }
  })
}
