import { Effect, Logger } from "effect"
import { describe, expect, it } from "vitest"
import * as NodeLogger from "../../runtime/telemetry/NodeLogger.ts"

const jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ1X2FiYyIsImV4cCI6MX0.c2lnbmF0dXJlLXZhbHVl"

describe("NodeLogger", () => {
  it("scrubs JWTs, token query values, Bearer values and URL passwords", () => {
    expect(NodeLogger.scrub(`token ${jwt} seen`)).toBe("token <redacted jwt> seen")
    expect(NodeLogger.scrub("GET /ws?token=abc.def&x=1")).toBe("GET /ws?token=<redacted>&x=1")
    expect(NodeLogger.scrub("authorization: Bearer s3cr3t-value")).toBe("authorization: Bearer <redacted>")
    expect(NodeLogger.scrub("postgres://app:pa55word@db:5432/chat")).toBe("postgres://app:<redacted>@db:5432/chat")
    expect(NodeLogger.scrub("nothing secret here")).toBe("nothing secret here")
  })

  it("writes json lines with the node id, annotations, and the trace and span ids inside a span", async () => {
    const lines: Array<string> = []
    const capture = Logger.replace(Logger.defaultLogger, Logger.map(NodeLogger.jsonLine("node-a"), (line) => void lines.push(line)))
    await Effect.runPromise(
      Effect.logInfo(`signed in with ${jwt}`).pipe(
        Effect.annotateLogs({ entityType: "Channel", entityId: "c_1" }),
        Effect.withSpan("post"),
        Effect.zipRight(Effect.logInfo("outside")),
        Effect.provide(capture)
      )
    )
    const [inside, outside] = lines.map((l) => JSON.parse(l))
    expect(inside).toMatchObject({
      message: "signed in with <redacted jwt>",
      logLevel: "INFO",
      nodeId: "node-a",
      annotations: { entityType: "Channel", entityId: "c_1" },
      traceId: expect.stringMatching(/^[0-9a-f]{32}$/),
      spanId: expect.stringMatching(/^[0-9a-f]{16}$/)
    })
    expect(outside.nodeId).toBe("node-a")
    expect(outside.traceId).toBeUndefined()
  })
})
