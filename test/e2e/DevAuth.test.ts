/**
 * PLEXI_DEV_AUTH=false turns the temporary development sign-in off.
 */
import { describe, expect, it } from "vitest"
import { nodeForSuite } from "../fixtures/NodeSuite.ts"

describe("development sign-in switch", () => {
  const node = nodeForSuite({ env: { PLEXI_DEV_AUTH: "false" } })

  it("refuses to mint development tokens with 403 Forbidden when PLEXI_DEV_AUTH=false", async () => {
    const res = await fetch(`${node().url}/api/v1/dev/token`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ userId: "mallory" })
    })
    expect(res.status).toBe(403)
    expect(await res.json()).toMatchObject({ _tag: "Forbidden" })
  })
})
