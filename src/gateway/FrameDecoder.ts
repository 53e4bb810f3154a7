/**
 * Turns one WebSocket message into a client frame, or into the error the
 * client gets. Every client value is hostile: nothing here may throw, and
 * nothing is formatted from a value before its type is checked.
 *
 * Order: size, binary, UTF-8, nesting depth (a cheap scan before parsing, so
 * no recursive step ever sees a deep value), JSON, `type`, schema (a valid
 * `post` frame by a hand check first, PostFrameCheck.ts).
 */
import { Either, ParseResult, Schema } from "effect"
import { ClientFrame, type ErrorCode, isRef } from "../../domain/Protocol.ts"
import { clip as clipText, nestedDeeperThan } from "../api/InputChecks.ts"
import { checkPostFrame } from "./PostFrameCheck.ts"

export interface FrameDecoderOptions {
  readonly maxFrameBytes: number
  readonly maxNestingDepth: number
}

export type Decoded =
  | { readonly _tag: "Frame"; readonly frame: ClientFrame }
  | { readonly _tag: "Refused"; readonly code: ErrorCode; readonly message: string; readonly ref: string | undefined }
  /** Not UTF-8: RFC 6455 says fail the connection (close 1007). */
  | { readonly _tag: "InvalidUtf8" }

const decoders = new Map(
  ClientFrame.members.map((member) => [
    member.fields.type.literals[0] as string,
    Schema.decodeUnknownEither(member as Schema.Schema<ClientFrame, unknown>, { errors: "all", onExcessProperty: "ignore" })
  ])
)

const utf8 = new TextDecoder("utf-8", { fatal: true })

/** Longest clause of an error message: a person needs the gist, not the whole hostile value echoed. */
const MAX_CLAUSE = 100

const clip = (s: string) => clipText(s, MAX_CLAUSE)

/**
 * `field: problem`, one clause per field. An optional field's failure also
 * reports "Expected undefined" for the absent branch of its union; that
 * branch tells a person nothing, so only the first issue per path is kept.
 */
export const formatParseError = (error: ParseResult.ParseError): string => {
  const seen = new Set<string>()
  const clauses: Array<string> = []
  for (const issue of ParseResult.ArrayFormatter.formatErrorSync(error)) {
    const path = issue.path.map(String).join(".")
    if (seen.has(path)) continue
    seen.add(path)
    clauses.push(clip(`${path.length > 0 ? `${path}: ` : ""}${issue.message}`))
  }
  return clauses.join("; ")
}

const refused = (code: ErrorCode, message: string, ref?: string): Decoded => ({ _tag: "Refused", code, message, ref })

const refOf = (json: object): string | undefined => {
  const ref = Object.hasOwn(json, "ref") ? (json as { ref: unknown }).ref : undefined
  return isRef(ref) ? ref : undefined
}

/**
 * Only the `ref` of a frame refused by the rate limit (no schema decode: a
 * flood must cost little). Undefined when the frame has no valid ref or
 * would be refused anyway.
 */
export const makeRefReader = (options: FrameDecoderOptions) => (data: ArrayBuffer, isBinary: boolean): string | undefined => {
  if (isBinary || data.byteLength > options.maxFrameBytes) return undefined
  try {
    const text = utf8.decode(data)
    if (nestedDeeperThan(text, options.maxNestingDepth)) return undefined
    const json: unknown = JSON.parse(text)
    return typeof json === "object" && json !== null && !Array.isArray(json) ? refOf(json) : undefined
  } catch {
    return undefined
  }
}

export const makeFrameDecoder = (options: FrameDecoderOptions) => (data: ArrayBuffer, isBinary: boolean): Decoded => {
  if (data.byteLength > options.maxFrameBytes) {
    return refused("frame_too_large", `frames are limited to ${options.maxFrameBytes} bytes`)
  }
  if (isBinary) return refused("binary_not_supported", "frames are JSON text; binary frames are not supported")
  let text: string
  try {
    text = utf8.decode(data)
  } catch {
    return { _tag: "InvalidUtf8" }
  }
  if (nestedDeeperThan(text, options.maxNestingDepth)) {
    return refused("invalid_frame", `the frame nests arrays or objects deeper than ${options.maxNestingDepth} levels`)
  }
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch {
    return refused("bad_json", "the frame is not valid JSON")
  }
  if (typeof json !== "object" || json === null || Array.isArray(json)) {
    return refused("unknown_type", "a frame is a JSON object with a string type")
  }
  const ref = refOf(json)
  const type = Object.hasOwn(json, "type") ? (json as { type: unknown }).type : undefined
  if (typeof type !== "string") return refused("unknown_type", "the frame has no type, or its type is not a string", ref)
  if (type === "post") {
    const post = checkPostFrame(json)
    if (post !== undefined) return { _tag: "Frame", frame: post }
  }
  const decode = decoders.get(type)
  if (decode === undefined) return refused("unknown_type", clip(`unknown frame type: ${JSON.stringify(type)}`), ref)
  const decoded = decode(json)
  if (Either.isLeft(decoded)) return refused("invalid_frame", formatParseError(decoded.left), ref)
  return { _tag: "Frame", frame: decoded.right }
}
