/**
 * The node's one public port, owned by uWebSockets.js:
 * - `/ws`      the WebSocket protocol (docs/PROTOCOL.md)
 * - `/rpc`     typed RPC for `@effect/rpc` clients (NDJSON over HTTP, streamed)
 * - `/api/v1`  REST from the `HttpApi`, with `/api/v1/openapi.json`
 */
import { Cause, Context, Effect, Layer, Runtime } from "effect"
import type { TemplatedApp, us_listen_socket } from "uWebSockets.js"
import { CloseCode, drainingCloseReason } from "../../domain/Protocol.ts"
import { ChatService } from "../../src/api/ChatService.ts"
import { Revocations } from "../../src/auth/Revocations.ts"
import { TokenVerifier } from "../../src/auth/TokenVerifier.ts"
import { ChannelHub, FanOut } from "../../src/messaging/ChannelHub.ts"
import { Draining } from "../Draining.ts"
import { EdgeConfig } from "./EdgeConfig.ts"
import { HardeningConfig } from "./HardeningConfig.ts"
import { makeWebHandler } from "./HttpApp.ts"
import { bridge } from "./HttpBridge.ts"
import { HttpConfig } from "./HttpConfig.ts"
import { corsAllows, corsAnswerHeaders, upgradeAllows } from "./OriginPolicy.ts"
import { securityHeaders } from "./SecurityHeaders.ts"
import { uws, websocketEngine } from "./Uws.ts"
import { encodeMessageFrame, topicOf } from "../../src/gateway/ServerFrames.ts"
import { Subscriptions } from "../../src/gateway/Subscriptions.ts"
import { makeGateway } from "./WsGateway.ts"
import { WsConfig } from "./WsConfig.ts"
import { deliveryLatencyMs, framesOut, messagesDelivered } from "../../src/observability/ChatMetrics.ts"

/**
 * The uWS app of this node and its WebSocket subscription index. Both exist
 * before the hub (whose `FanOut.revoke/retain` land in the index) and before
 * the gateway (which registers its sessions there).
 */
export class UwsApp extends Context.Tag("plexichat/UwsApp")<UwsApp, {
  readonly app: TemplatedApp
  readonly subscriptions: Subscriptions
}>() {
  static readonly layer = Layer.sync(UwsApp, () => ({ app: uws.App(), subscriptions: new Subscriptions() }))
}

/**
 * Live fan-out: one uWS `publish` per message and edge; uWS writes to every
 * subscribed socket natively. The metrics cost one `numSubscribers` and one
 * clock read per batch, and a histogram update per message.
 */
export const FanOutLive = Layer.effect(FanOut, Effect.map(UwsApp, ({ app, subscriptions }) =>
  FanOut.of({
    publish: (channelId, messages) => {
      const topic = topicOf(channelId)
      const now = Date.now()
      for (const m of messages) {
        app.publish(topic, encodeMessageFrame(m))
        deliveryLatencyMs.update(now - m.createdAt)
      }
      const delivered = app.numSubscribers(topic) * messages.length
      messagesDelivered.update(delivered)
      framesOut.message.update(delivered)
      subscriptions.notePublished()
    },
    revoke: (channelId, userIds) => subscriptions.revoke(channelId, userIds),
    retain: (channelId, members) => subscriptions.retain(channelId, members)
  })))

/** The node's identity as shown in health and `hello`. */
export class NodeId extends Context.Tag("plexichat/NodeId")<NodeId, string>() {}

export class EdgeServer extends Context.Tag("plexichat/EdgeServer")<EdgeServer, { readonly port: number }>() {}

export const EdgeLive = Layer.scoped(EdgeServer, Effect.gen(function*() {
  const config = yield* EdgeConfig
  const nodeId = yield* NodeId
  const wsConfig = yield* WsConfig
  const { app, subscriptions } = yield* UwsApp
  const chat = yield* ChatService
  const tokens = yield* TokenVerifier
  const hub = yield* ChannelHub
  const revocations = yield* Revocations
  const runtime = yield* Effect.runtime<never>()
  const http = yield* HttpConfig
  const handler = yield* makeWebHandler
  const hardening = yield* HardeningConfig
  const draining = yield* Draining
  // Every HTTP answer and refused upgrade carries these (docs/SECURITY.md, "HTTP hardening").
  const headers = securityHeaders(hardening)

  const gateway = makeGateway({
    options: { ...wsConfig, nodeId, engine: websocketEngine },
    runtime,
    subscriptions,
    chat,
    tokens,
    hub,
    revocations,
    policy: { headers, originAllowed: upgradeAllows(hardening) }
  })
  app.ws("/ws", gateway.behavior)
  // Sessions ended and accounts disabled, here or on another node: their sockets close at once (4003).
  yield* Effect.acquireRelease(
    Effect.sync(() => revocations.listen(gateway.endRevoked)),
    (stop) => Effect.sync(stop)
  )
  // REST, RPC and every other HTTP path: one Effect HTTP app on this node's runtime (HttpApp.ts).
  const onDefect = (error: unknown) => Runtime.runFork(runtime)(Effect.logError("HTTP bridge defect", Cause.die(error)))
  const corsOf = corsAnswerHeaders(corsAllows(hardening))
  app.any("/*", bridge(handler, {
    maxBodyBytes: http.maxBodyBytes,
    maxHeaderBytes: http.maxHeaderBytes,
    onDefect,
    headers,
    refusalHeaders: (request) => corsOf(request.get("origin"))
  }))

  const listenSocket = yield* Effect.async<us_listen_socket, Error>((resume) => {
    app.listen(config.host, config.port, (socket) => {
      resume(socket === false ? Effect.fail(new Error(`cannot listen on ${config.host}:${config.port}`)) : Effect.succeed(socket))
    })
  }).pipe(Effect.orDie)
  const port = uws.us_socket_local_port(listenSocket as never)
  // Shutdown: readiness false, stop accepting, tell clients to go elsewhere (1001), and close
  // the channel feeds so the entities they follow can stop at once.
  yield* Effect.addFinalizer(() =>
    Effect.zipRight(
      Effect.zipRight(draining.begin, Effect.sync(() => {
        uws.us_listen_socket_close(listenSocket)
        gateway.closeAll(CloseCode.goingAway, drainingCloseReason)
      })),
      Effect.zipRight(hub.closeAll, Effect.logInfo("edge closed: listener, WebSockets (1001) and channel feeds"))
    )
  )
  yield* Effect.logInfo(`PlexiChat node ${nodeId} listening on http://${config.host}:${port} (websocket engine: ${websocketEngine})`)
  if (websocketEngine !== "uws-native") {
    yield* Effect.logWarning("uWebSockets.js native binary did not load: running the slow ws fallback")
  }
  return { port }
}))
