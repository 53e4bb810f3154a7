/**
 * Per-session admission of frames: one token bucket (the shared
 * `TokenBucket`) plus flood detection. Refusals are counted per window, not
 * "in a row": a client flooding at full speed still gets a token now and
 * then, which must not reset the count.
 */
import { take, type TokenBucket, type TokenBucketOptions } from "../api/TokenBucket.ts"

export interface AdmissionOptions {
  readonly bucket: TokenBucketOptions
  /** Refused frames within `floodWindowMs` after which the session is closed (4029). */
  readonly floodCloseAfter: number
  readonly floodWindowMs: number
}

/** Refusals without a `ref` are answered at most this often (a flood does not get a flood of errors back). */
const UNREFERENCED_ERROR_INTERVAL_MS = 100

export type Verdict =
  | { readonly _tag: "Admitted" }
  /** Refused; `answer` says whether an unreferenced refusal gets an error now. */
  | { readonly _tag: "Refused"; readonly retryAfterMs: number; readonly answer: boolean }
  | { readonly _tag: "Flood" }

const admitted: Verdict = { _tag: "Admitted" }
const flood: Verdict = { _tag: "Flood" }

/** What admission keeps per session; the session holds these fields itself (no extra object per socket). */
export interface AdmissionState extends TokenBucket {
  refused: number
  refusedSince: number
  lastAnsweredAt: number
}

export const initialAdmission = (options: AdmissionOptions, now: number): AdmissionState => ({
  tokens: options.bucket.burst,
  refilledAt: now,
  refused: 0,
  refusedSince: 0,
  lastAnsweredAt: Number.NEGATIVE_INFINITY
})

export const admit = (state: AdmissionState, options: AdmissionOptions, now: number): Verdict => {
  const waitMs = take(state, options.bucket, now)
  if (waitMs === 0) return admitted
  if (now - state.refusedSince > options.floodWindowMs) {
    state.refusedSince = now
    state.refused = 0
  }
  if (++state.refused >= options.floodCloseAfter) return flood
  const answer = now - state.lastAnsweredAt >= UNREFERENCED_ERROR_INTERVAL_MS
  if (answer) state.lastAnsweredAt = now
  return { _tag: "Refused", retryAfterMs: waitMs, answer }
}
