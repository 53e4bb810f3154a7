/**
 * The client-data checks that run before `@simplewebauthn/server`'s own:
 * each refusal gets its reason (the browser-driven cases are in
 * test/e2e/WebAuthn.test.ts; these are the ones a browser does not make).
 */
import { Effect } from "effect"
import { describe, expect, it } from "vitest"
import { verifyAssertion, verifyRegistration } from "../../src/auth/WebAuthnVerify.ts"

const expected = { challenge: "Y2hhbGxlbmdl", origins: ["https://chat.example.com"], rpId: "chat.example.com" }

const clientData = (fields: Record<string, unknown>) => Buffer.from(JSON.stringify(fields)).toString("base64url")

const good = { type: "webauthn.get", challenge: expected.challenge, origin: "https://chat.example.com" }

const assertionWith = (clientDataJSON: string) => ({
  id: "AAAA",
  rawId: "AAAA",
  type: "public-key" as const,
  response: { clientDataJSON, authenticatorData: "AAAA", signature: "AAAA" },
  clientExtensionResults: {}
})

const refusal = (clientDataJSON: string) =>
  Effect.runPromise(Effect.flip(verifyAssertion(
    assertionWith(clientDataJSON),
    expected,
    { id: "AAAA", publicKey: new Uint8Array(8), counter: 0 },
    true
  )))

describe("WebAuthn client-data checks", () => {
  it.each([
    ["not base64url JSON", Buffer.from("{not json").toString("base64url"), "invalid"],
    ["a JSON value that is not an object", Buffer.from(JSON.stringify(["webauthn.get"])).toString("base64url"), "invalid"],
    ["a registration's type in an assertion", clientData({ ...good, type: "webauthn.create" }), "invalid"],
    ["another challenge", clientData({ ...good, challenge: "b3RoZXI" }), "challenge"],
    ["an origin not listed", clientData({ ...good, origin: "https://chat.example.com.evil.net" }), "origin"],
    ["no origin", clientData({ type: good.type, challenge: good.challenge }), "origin"],
    ["a cross-origin frame", clientData({ ...good, crossOrigin: true }), "origin"],
    ["good client data over a bad signature", clientData(good), "invalid"]
  ])("refuses %s", async (_, data, reason) => {
    expect((await refusal(data)).reason).toBe(reason)
  })

  it("refuses a registration whose client data is an assertion's", async () => {
    const result = await Effect.runPromise(Effect.flip(verifyRegistration({
      id: "AAAA",
      rawId: "AAAA",
      type: "public-key",
      response: { clientDataJSON: clientData(good), attestationObject: "AAAA" },
      clientExtensionResults: {}
    }, expected)))
    expect(result.reason).toBe("invalid")
    expect(result.message).toContain("webauthn.create")
  })
})
