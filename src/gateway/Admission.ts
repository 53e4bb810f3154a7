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

/** The session's own bucket (it is a `TokenBucket`: no extra object per socket). */
export class Admission implements TokenBucket {
  tokens: number
  refilledAt: number
  private refused = 0
  private refusedSince = 0
  private lastAnsweredAt = Number.NEGATIVE_INFINITY

  constructor(private readonly options: AdmissionOptions, now: number) {
    this.tokens = options.bucket.burst
    this.refilledAt = now
  }

  admit(now: number): Verdict {
    const waitMs = take(this, this.options.bucket, now)
    if (waitMs === 0) return admitted
    if (now - this.refusedSince > this.options.floodWindowMs) {
      this.refusedSince = now
      this.refused = 0
    }
    if (++this.refused >= this.options.floodCloseAfter) return flood
    const answer = now - this.lastAnsweredAt >= UNREFERENCED_ERROR_INTERVAL_MS
    if (answer) this.lastAnsweredAt = now
    return { _tag: "Refused", retryAfterMs: waitMs, answer }
  }
}
