/**
 * Whether a failed shard-lock operation must fence the runner (drop every
 * shard before re-taking any; FencedRunnerStorage.ts), as a pure function.
 *
 * The library rebuilds its lock connection after any failed lock operation
 * and its next refresh re-takes the advisory locks. That is only unsafe if
 * another runner may have owned a shard in between, which needs this runner's
 * session to have been ended (the reaper of a stalled runner, a network cut,
 * an operator) or its heartbeat to have aged towards the expiration (the others
 * drop it from their ring). So a failure fences, unless it is a plain timeout
 * of a statement on a busy database (our deadline, `statement_timeout`,
 * `lock_timeout`) and the last heartbeat that succeeded started less than half
 * the expiration ago. Anything unknown fences.
 */
import { Cause } from "effect"

/** Postgres codes of a statement that was cancelled or timed out on a session that lives on. */
const transientCodes = new Set(["57014", "55P03"])

const isTransient = (error: unknown, depth = 0): boolean => {
  if (Cause.isTimeoutException(error)) return true
  if (typeof error !== "object" || error === null || depth > 8) return false
  const code = (error as { readonly code?: unknown }).code
  if (typeof code === "string" && transientCodes.has(code)) return true
  return isTransient((error as { readonly cause?: unknown }).cause, depth + 1)
}

export const shouldFence = (
  cause: Cause.Cause<unknown>,
  sinceLastHeartbeatStartMs: number,
  expirationMs: number
): boolean => {
  if (sinceLastHeartbeatStartMs >= expirationMs / 2) return true
  if (Cause.isInterruptedOnly(cause)) return false
  const errors = [...Cause.failures(cause), ...Cause.defects(cause)]
  return errors.length === 0 || !errors.every((e) => isTransient(e))
}
