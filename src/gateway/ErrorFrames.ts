/**
 * Domain errors as WebSocket error frames: a protocol `code`, a sentence a
 * person can read in `message`, and the machine fields (`channelId`,
 * `userId`, `reason`, `retryAfterMs`) beside it. Both records are total over
 * `DomainError`: a new domain error without a code or a sentence fails type
 * checking.
 */
import type * as Errors from "../../domain/Errors.ts"
import type { DomainError } from "../../domain/Errors.ts"
import type { ErrorCode, ErrorFrame } from "../../domain/Protocol.ts"

/** Every error class domain/Errors.ts exports. */
type Exported = {
  [K in keyof typeof Errors]: (typeof Errors)[K] extends abstract new(...args: any) => infer I ? I : never
}[keyof typeof Errors]
/** Fails to compile when domain/Errors.ts exports an error that `DomainError` (and so the records below) lacks. */
type Missing = Exclude<Exported, DomainError>
const complete: [Missing] extends [never] ? true : { readonly missing: Missing } = true
void complete

type Tag = DomainError["_tag"]
type Of<T extends Tag> = Extract<DomainError, { readonly _tag: T }>

export const errorCodes: { readonly [T in Tag]: ErrorCode } = {
  Unauthorized: "unauthorized",
  ChannelNotFound: "channel_not_found",
  ChannelAlreadyExists: "channel_already_exists",
  NotAMember: "not_a_member",
  Forbidden: "forbidden",
  InvalidRequest: "invalid_frame",
  RateLimited: "rate_limited",
  ChannelUnavailable: "channel_unavailable",
  ServiceUnavailable: "channel_unavailable"
}

const sentences: { readonly [T in Tag]: (error: Of<T>) => string } = {
  Unauthorized: (e) => e.message,
  ChannelNotFound: (e) => `channel ${e.channelId} does not exist`,
  ChannelAlreadyExists: (e) => `channel ${e.channelId} already exists`,
  NotAMember: (e) => `${e.userId} is not a member of channel ${e.channelId}`,
  Forbidden: (e) => e.message,
  InvalidRequest: (e) => e.message,
  RateLimited: (e) => `too many requests; retry in ${e.retryAfterMs} ms`,
  ChannelUnavailable: (e) => `channel ${e.channelId} is unavailable (${e.reason}); retry`,
  ServiceUnavailable: (e) => `the service is unavailable (${e.reason}); retry`
}

type Fields = Omit<ErrorFrame, "type" | "code" | "message" | "ref">

const fieldsOf = (error: DomainError): Fields => {
  switch (error._tag) {
    case "ChannelNotFound":
    case "ChannelAlreadyExists":
      return { channelId: error.channelId }
    case "NotAMember":
      return { channelId: error.channelId, userId: error.userId }
    case "ChannelUnavailable":
      return { channelId: error.channelId, reason: error.reason }
    case "ServiceUnavailable":
      return { reason: error.reason }
    case "RateLimited":
      return { retryAfterMs: error.retryAfterMs }
    case "Unauthorized":
    case "Forbidden":
    case "InvalidRequest":
      return {}
  }
}

/** The error frame answering `error` (for the request `ref`, when it had a valid one). */
export const domainErrorFrame = (error: DomainError, ref: string | undefined): ErrorFrame => ({
  type: "error",
  code: errorCodes[error._tag],
  message: (sentences[error._tag] as (e: DomainError) => string)(error),
  ...(ref === undefined ? {} : { ref }),
  ...fieldsOf(error)
})

/** An error frame that no domain error stands behind (bad input, protocol state). */
export const protocolErrorFrame = (
  code: ErrorCode,
  message: string,
  ref: string | undefined,
  fields: Fields = {}
): ErrorFrame => ({ type: "error", code, message, ...(ref === undefined ? {} : { ref }), ...fields })

const encodedError = (message: string, reason: string) => JSON.stringify(protocolErrorFrame("unauthorized", message, undefined, { reason }))

/** Sent unasked, just before the close 4001 at token expiry. */
export const tokenExpiredFrame = encodedError(
  "the token expired; reconnect with a fresh token, or send a fresh auth frame before expiresAt to stay connected",
  "token_expired"
)

/** Sent unasked, just before the close 4003, per reason. */
export const revokedFrames: { readonly [R in "session_revoked" | "account_disabled"]: string } = {
  session_revoked: encodedError("the session was ended (signed out, revoked, or the password changed or reset); sign in again", "session_revoked"),
  account_disabled: encodedError("the account was disabled", "account_disabled")
}
