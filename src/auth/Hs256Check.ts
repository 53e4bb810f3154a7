/**
 * The synchronous check of an HS256 JWT: jose's decoders read the header and
 * the claims, node:crypto's HMAC checks the signature, and the claim rules
 * are those of jose's `jwtVerify` (same order, same failures), which the
 * test compares against it (test/unit/Hs256Check.test.ts).
 *
 * Why not `jwtVerify` itself: it is asynchronous (WebCrypto), and a token
 * checked asynchronously makes the WebSocket upgrade asynchronous, which the
 * pinned uWebSockets.js build (20.30) breaks: an upgrade inside `res.cork`
 * after an await can close the new socket at once (1006), fixed upstream in
 * uWebSockets v20.38 ("Fix async upgrade inside cork"), and without the cork
 * it prints a warning per upgrade. Checked synchronously, the upgrade stays on
 * uWS's own path, inside its upgrade handler.
 */
import { createHmac, timingSafeEqual } from "node:crypto"
import { decodeJwt, decodeProtectedHeader, type JWTPayload } from "jose"

/** Why a token is refused, as jose's errors map to it (AccessTokens.ts). */
export type Refusal = "malformed token" | "bad token signature" | "token claims refused" | "token expired"

export interface Hs256Rules {
  /** The secret for a `kid`, or undefined for a key not configured. */
  readonly secretOf: (kid: string) => Uint8Array | undefined
  readonly issuer: string
  readonly audience: string
  /** The `typ` header, compared as jose does (case-insensitive, `application/` implied). */
  readonly typ: string
  readonly requiredClaims: ReadonlyArray<string>
}

/** jose's: a `typ` without a `/` is an `application/` media type. */
const normalizeTyp = (typ: string) => (typ.includes("/") ? typ.toLowerCase() : `application/${typ.toLowerCase()}`)

const decoded = <A>(decode: () => A): A | undefined => {
  try {
    return decode()
  } catch {
    return undefined
  }
}

const signatureMatches = (token: string, secret: Uint8Array) => {
  const lastDot = token.lastIndexOf(".")
  const given = Buffer.from(token.slice(lastDot + 1), "base64url")
  const expected = createHmac("sha256", secret).update(token.slice(0, lastDot)).digest()
  return given.length === expected.length && timingSafeEqual(given, expected)
}

/** jose's claim set rules with no clock tolerance; `nowSeconds` is whole seconds, as jose's. */
const claimsRefusal = (payload: JWTPayload, rules: Hs256Rules, nowSeconds: number): Refusal | undefined => {
  if (rules.requiredClaims.some((claim) => !Object.hasOwn(payload, claim))) return "token claims refused"
  if (payload.iss !== rules.issuer) return "token claims refused"
  const aud = payload.aud
  if (!(aud === rules.audience || (Array.isArray(aud) && aud.includes(rules.audience)))) return "token claims refused"
  if (payload.iat !== undefined && typeof payload.iat !== "number") return "token claims refused"
  if (payload.nbf !== undefined && (typeof payload.nbf !== "number" || payload.nbf > nowSeconds)) return "token claims refused"
  if (payload.exp !== undefined) {
    if (typeof payload.exp !== "number") return "token claims refused"
    if (payload.exp <= nowSeconds) return "token expired"
  }
  return undefined
}

/** The token's claims, or why it is refused; `now` in milliseconds. The caller has checked its shape (three parts). */
export const checkHs256 = (token: string, rules: Hs256Rules, now: number): JWTPayload | Refusal => {
  const header = decoded(() => decodeProtectedHeader(token))
  // A critical extension is one jose would have to understand; these tokens never carry one.
  if (header === undefined || header.alg !== "HS256" || header.crit !== undefined || header.b64 !== undefined) {
    return "malformed token"
  }
  // A base64url part of 4n+1 characters decodes to nothing whole: jose refuses it as malformed.
  if ((token.length - token.lastIndexOf(".") - 1) % 4 === 1) return "malformed token"
  const secret = typeof header.kid === "string" ? rules.secretOf(header.kid) : undefined
  if (secret === undefined || !signatureMatches(token, secret)) return "bad token signature"
  const payload = decoded(() => decodeJwt(token))
  if (payload === undefined) return "malformed token"
  if (typeof header.typ !== "string" || normalizeTyp(header.typ) !== normalizeTyp(rules.typ)) return "token claims refused"
  return claimsRefusal(payload, rules, Math.floor(now / 1000)) ?? payload
}
