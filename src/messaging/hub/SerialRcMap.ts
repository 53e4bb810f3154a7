/**
 * `RcMap.get`, one at a time. In effect 3.22 `RcMap.get` looks the key up,
 * then waits for the map's semaphore and creates the entry without looking
 * again: two gets of a new key whose fibers yield in between each create an
 * entry, and the second replaces the first in the map while both stay alive.
 * For the hub's feeds that was two feeds of one channel, each publishing
 * every message to the channel's topic (the rolling-restart test saw every
 * live message twice on a node that had just joined). Each get holds the
 * guard until its entry is ready, so it suits a map whose lookup completes at
 * once (the feed's only forks its fiber), not one that waits on the network:
 * there a slow lookup would hold up every other key.
 * test/unit/SerialRcMap.test.ts shows the library's race and this guard.
 */
import { Effect, RcMap, type Scope } from "effect"

export const makeSerialGet = <K, A, E>(map: RcMap.RcMap<K, A, E>) =>
  Effect.map(Effect.makeSemaphore(1), (lookups) => (key: K): Effect.Effect<A, E, Scope.Scope> => lookups.withPermits(1)(RcMap.get(map, key)))
