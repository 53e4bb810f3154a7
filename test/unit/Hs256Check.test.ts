/**
 * The synchronous HS256 check (src/auth/Hs256Check.ts) refuses and accepts
 * exactly what jose's `jwtVerify` did with the access tokens' options, with
 * the same reason: the old check is the oracle here, over crafted tokens
 * (headers, signatures, claims of every type) and generated claim sets.
 */
import { fc, test } from "@fast-check/vitest"
import { createHmac } from "node:crypto"
import { Either } from "effect"
import { errors, jwtVerify } from "jose"
import { describe, expect, it } from "vitest"
import { AUDIENCE, ISSUER, makeAccessTokens, TOKEN_TYPE } from "../../src/auth/AccessTokens.ts"
import { checkHs256 } from "../../src/auth/Hs256Check.ts"
import { Redacted } from "effect"

const secret = new TextEncoder().encode("a-test-secret-of-thirty-two-chars!!")
const other = new TextEncoder().encode("another-secret-of-thirty-two-chars!")
const secrets = new Map([["k1", secret], ["k2", other]])
const NOW = 1_800_000_000_000
const nowS = NOW / 1000

const b64 = (value: unknown) => Buffer.from(typeof value === "string" ? value : JSON.stringify(value)).toString("base64url")
const sign = (input: string, key: Uint8Array) => createHmac("sha256", key).update(input).digest("base64url")
const token = (header: unknown, payload: unknown, key: Uint8Array = secret) => {
  const input = `${b64(header)}.${b64(payload)}`
  return `${input}.${sign(input, key)}`
}

const goodHeader = { alg: "HS256", kid: "k1", typ: TOKEN_TYPE }
const goodClaims = { sub: "u_abcdefghij", sid: "s_abcdefghij", iss: ISSUER, aud: AUDIENCE, iat: nowS - 10, exp: nowS + 600 }

/** What the access tokens answered before, through jose's asynchronous check, mapped as AccessTokens.ts mapped it. */
const joseReason = async (jwt: string) => {
  try {
    await jwtVerify(jwt, (header) => {
      const key = header.kid === undefined ? undefined : secrets.get(header.kid)
      if (key === undefined) throw new errors.JWSSignatureVerificationFailed()
      return key
    }, { algorithms: ["HS256"], issuer: ISSUER, audience: AUDIENCE, typ: TOKEN_TYPE, requiredClaims: ["exp", "iat", "sub", "sid"], currentDate: new Date(NOW) })
    return "ok"
  } catch (error) {
    if (error instanceof errors.JWTExpired) return "token expired"
    if (error instanceof errors.JWSSignatureVerificationFailed) return "bad token signature"
    if (error instanceof errors.JWTClaimValidationFailed) return "token claims refused"
    return "malformed token"
  }
}

const rules = { secretOf: (kid: string) => secrets.get(kid), issuer: ISSUER, audience: AUDIENCE, typ: TOKEN_TYPE, requiredClaims: ["exp", "iat", "sub", "sid"] }
const ourReason = (jwt: string) => {
  const result = checkHs256(jwt, rules, NOW)
  return typeof result === "string" ? result : "ok"
}

const crafted: Record<string, string> = {
  good: token(goodHeader, goodClaims),
  "second key": token({ ...goodHeader, kid: "k2" }, goodClaims, other),
  "signed with the other key": token(goodHeader, goodClaims, other),
  "unknown kid": token({ ...goodHeader, kid: "k9" }, goodClaims),
  "no kid": token({ alg: "HS256", typ: TOKEN_TYPE }, goodClaims),
  "numeric kid": token({ ...goodHeader, kid: 1 }, goodClaims),
  "alg none": `${b64({ alg: "none", kid: "k1", typ: TOKEN_TYPE })}.${b64(goodClaims)}.`,
  "alg HS512": token({ ...goodHeader, alg: "HS512" }, goodClaims),
  "alg missing": token({ kid: "k1", typ: TOKEN_TYPE }, goodClaims),
  "typ missing": token({ alg: "HS256", kid: "k1" }, goodClaims),
  "typ JWT": token({ ...goodHeader, typ: "JWT" }, goodClaims),
  "typ upper case": token({ ...goodHeader, typ: "AT+JWT" }, goodClaims),
  "typ with application/": token({ ...goodHeader, typ: "application/at+jwt" }, goodClaims),
  "typ numeric": token({ ...goodHeader, typ: 7 }, goodClaims),
  "header not JSON": `${b64("{nope")}.${b64(goodClaims)}.${sign(`${b64("{nope")}.${b64(goodClaims)}`, secret)}`,
  "header an array": token([1], goodClaims),
  "payload not JSON": token(goodHeader, "not json"),
  "payload an array": token(goodHeader, [goodClaims]),
  "payload null": token(goodHeader, "null"),
  "signature truncated": token(goodHeader, goodClaims).slice(0, -2),
  "signature of 4n+1 characters": `${token(goodHeader, goodClaims)}A`,
  "payload changed after signing": token(goodHeader, goodClaims).replace(/\.([^.]+)\./, `.${b64({ ...goodClaims, sub: "u_zzzzzzzzzz" })}.`),
  expired: token(goodHeader, { ...goodClaims, exp: nowS }),
  "expires in a second": token(goodHeader, { ...goodClaims, exp: nowS + 1 }),
  "exp a string": token(goodHeader, { ...goodClaims, exp: String(nowS + 600) }),
  "exp missing": token(goodHeader, { ...goodClaims, exp: undefined }),
  "iat missing": token(goodHeader, { ...goodClaims, iat: undefined }),
  "iat a string": token(goodHeader, { ...goodClaims, iat: "yesterday" }),
  "iat in the future": token(goodHeader, { ...goodClaims, iat: nowS + 9999 }),
  "nbf in the future": token(goodHeader, { ...goodClaims, nbf: nowS + 60 }),
  "nbf now": token(goodHeader, { ...goodClaims, nbf: nowS }),
  "nbf a string": token(goodHeader, { ...goodClaims, nbf: "soon" }),
  "wrong issuer": token(goodHeader, { ...goodClaims, iss: "someone" }),
  "issuer missing": token(goodHeader, { ...goodClaims, iss: undefined }),
  "audience in an array": token(goodHeader, { ...goodClaims, aud: ["x", AUDIENCE] }),
  "wrong audience": token(goodHeader, { ...goodClaims, aud: ["x"] }),
  "audience a number": token(goodHeader, { ...goodClaims, aud: 3 }),
  "sid missing": token(goodHeader, { ...goodClaims, sid: undefined }),
  "sub missing": token(goodHeader, { ...goodClaims, sub: undefined })
}

describe("the synchronous HS256 check", () => {
  for (const [name, jwt] of Object.entries(crafted)) {
    it(`answers as jose did: ${name}`, async () => {
      expect(ourReason(jwt)).toBe(await joseReason(jwt))
    })
  }

  it("accepts the access tokens' own, and the whole check gives their claims", () => {
    const tokens = makeAccessTokens({ keys: Redacted.make({ active: { kid: "k1", secret }, all: [{ kid: "k1", secret }] }), ttlMs: 60_000 })
    const claims = Either.getOrThrow(tokens.verifyNow(crafted.good!, NOW))
    expect(claims).toEqual({ userId: goodClaims.sub, sessionId: goodClaims.sid, expiresAt: goodClaims.exp * 1000 })
  })

  const claimValue = fc.oneof(fc.constant(undefined), fc.integer({ min: nowS - 100, max: nowS + 100 }), fc.string({ maxLength: 12 }), fc.constant(null), fc.array(fc.string({ maxLength: 8 }), { maxLength: 2 }))
  const claimSets = fc.record({
    sub: fc.oneof(fc.constant(goodClaims.sub), claimValue),
    sid: fc.oneof(fc.constant(goodClaims.sid), claimValue),
    iss: fc.oneof(fc.constant(ISSUER), claimValue),
    aud: fc.oneof(fc.constant(AUDIENCE), fc.constant([AUDIENCE, "x"]), claimValue),
    iat: fc.oneof(fc.constant(goodClaims.iat), claimValue),
    nbf: claimValue,
    exp: fc.oneof(fc.constant(goodClaims.exp), claimValue)
  })
  const headers = fc.record({
    alg: fc.constantFrom("HS256", "HS384", "none", undefined),
    kid: fc.constantFrom("k1", "k2", "k9", undefined),
    typ: fc.constantFrom(TOKEN_TYPE, "application/at+jwt", "JWT", undefined)
  })

  test.prop([headers, claimSets, fc.constantFrom(secret, other)], { numRuns: 300 })(
    "answers as jose did for generated headers and claim sets",
    async (header, claims, key) => {
      const jwt = token(header, claims, key)
      expect(ourReason(jwt)).toBe(await joseReason(jwt))
    }
  )
})
