/**
 * Pure checks of a request body before anything decodes it: JSON nesting
 * depth (a deep document overflows the stack of recursive decoders and
 * formatters), and the NDJSON envelope of `/rpc` calls (ids, tags, payloads),
 * so that a malformed call gets one readable sentence instead of a defect
 * carrying a schema dump. Each check returns the problem, or `undefined`.
 */
import { Either, ParseResult, Schema } from "effect"
import { PlexiRpcs } from "../../domain/Rpcs.ts"
import { clip as clipText, nestedDeeperThan } from "../../src/api/InputChecks.ts"

/** Parses JSON that passed the depth check; a syntax error becomes a sentence. */
export const parseJson = (text: string): Either.Either<unknown, string> => {
  try {
    return Either.right(JSON.parse(text) as unknown)
  } catch {
    return Either.left("the request body is not valid JSON")
  }
}

export const clip = (text: string, max = 200) => clipText(text, max + 1)

export { nestedDeeperThan }

/** The first problem a schema finds, as `path: message`, clipped so that a huge value is never echoed whole. */
export const firstIssue = (error: ParseResult.ParseError): string => {
  const [issue] = ParseResult.ArrayFormatter.formatErrorSync(error)
  if (issue === undefined) return "invalid value"
  return clip(issue.path.length > 0 ? `${issue.path.join(".")}: ${issue.message}` : issue.message)
}

const isRecord = (u: unknown): u is Record<string, unknown> => typeof u === "object" && u !== null && !Array.isArray(u)

const payloadDecoders = new Map(
  Array.from(PlexiRpcs.requests, ([tag, rpc]) => [tag, Schema.decodeUnknownEither(rpc.payloadSchema as Schema.Schema<unknown, unknown>)])
)
const Headers = Schema.Array(Schema.Tuple(Schema.String, Schema.String))
const isHeaders = Schema.is(Headers)
const requestId = /^[0-9]{1,19}$/

/**
 * Header names an RPC message may not carry: the edge's own (`x-plexi-peer-address`, the address the node saw),
 * which the RPC server would otherwise merge over the HTTP request's.
 */
const reservedHeader = (name: string) => name.toLowerCase().startsWith("x-plexi-")

/** The most messages one `POST /rpc` body may carry: a client cannot fold unbounded calls into one HTTP request. */
export const MAX_RPC_MESSAGES = 64

const checkRequest = (message: Record<string, unknown>): string | undefined => {
  const { headers, id, payload, sampled, spanId, tag, traceId } = message
  if (typeof id !== "string" || !requestId.test(id)) return "id must be a string of 1 to 19 decimal digits"
  if (typeof tag !== "string") return "tag must be a string naming an RPC"
  const decode = payloadDecoders.get(tag)
  if (decode === undefined) return clip(`unknown RPC tag ${JSON.stringify(tag)}; see PlexiRpcs in domain/Rpcs.ts`)
  if (!isHeaders(headers)) return "headers must be an array of [name, value] string pairs"
  const reserved = headers.find(([name]) => reservedHeader(name))
  if (reserved !== undefined) return clip(`headers may not carry ${JSON.stringify(reserved[0])}: x-plexi-* headers are the edge's own`)
  if (traceId !== undefined && typeof traceId !== "string") return "traceId must be a string"
  if (spanId !== undefined && typeof spanId !== "string") return "spanId must be a string"
  if (sampled !== undefined && typeof sampled !== "boolean") return "sampled must be a boolean"
  const decoded = decode(payload)
  return Either.isLeft(decoded) ? `${tag} payload: ${firstIssue(decoded.left)}` : undefined
}

const checkMessage = (message: unknown): string | undefined => {
  if (!isRecord(message)) return "each line must be a JSON object"
  switch (message._tag) {
    case "Request":
      return checkRequest(message)
    case "Ping":
    case "Eof":
      return undefined
    case "Interrupt":
    case "Ack":
      return typeof message.requestId === "string" && requestId.test(message.requestId)
        ? undefined
        : "requestId must be a string of 1 to 19 decimal digits"
    default:
      return "_tag must be Request, Interrupt, Ack, Ping or Eof"
  }
}

/**
 * Checks the NDJSON body of a `POST /rpc`: one JSON message per line, each
 * line ended by a newline, at most `MAX_RPC_MESSAGES` of them, every
 * `Request` with a decimal id, a known tag, no `x-plexi-*` header and a
 * payload its RPC's schema accepts.
 */
export const checkRpcBody = (text: string): string | undefined => {
  if (text.length > 0 && !text.endsWith("\n")) return "every NDJSON message must end with a newline"
  const lines = text.split("\n")
  let messages = 0
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!
    if (line.trim().length === 0) continue
    if (++messages > MAX_RPC_MESSAGES) return `a body carries at most ${MAX_RPC_MESSAGES} RPC messages`
    const parsed = parseJson(line)
    const problem = Either.isLeft(parsed) ? "the line is not valid JSON" : checkMessage(parsed.right)
    if (problem !== undefined) return `line ${i + 1}: ${problem}`
  }
  return messages === 0 ? "the body holds no RPC message" : undefined
}
