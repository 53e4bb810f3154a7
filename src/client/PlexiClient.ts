/**
 * `plexichat/client`: the public contracts plus a ready typed RPC client.
 *
 * ```ts
 * import { PlexiClient } from "plexichat/client"
 * const program = Effect.gen(function*() {
 *   const client = yield* PlexiClient
 *   const channel = yield* client.CreateChannel({ name: "general" })
 * }).pipe(Effect.provide(PlexiClient.layer({ url: "http://localhost:8080", token })))
 * ```
 *
 * Calls go to `<url>/rpc` as NDJSON over HTTP, each naming the client's
 * protocol version (`plexi-protocol`, domain/ProtocolVersion.ts); `Subscribe`
 * streams stay open for as long as the stream is consumed.
 */
import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import { RpcClient, RpcSerialization } from "@effect/rpc"
import type { RpcClientError } from "@effect/rpc/RpcClientError"
import type { RpcGroup } from "@effect/rpc"
import { Context, Effect, Layer } from "effect"
import { PROTOCOL_HEADER, PROTOCOL_VERSION } from "../../domain/ProtocolVersion.ts"
import { PlexiRpcs } from "../../domain/Rpcs.ts"

export * from "../../domain/Api.ts"
export * from "../../domain/AdminRpcs.ts"
export * from "../../domain/FeatureFlags.ts"
export * from "../../domain/Operations.ts"
export * from "../../domain/OperationsRpcs.ts"
export * from "../../domain/BackupRpcs.ts"
export * from "../../domain/ProtocolVersion.ts"
export * from "../../domain/AuthRpcs.ts"
export * from "../../domain/Rpcs.ts"
export * from "../../domain/Auth.ts"
export * from "../../domain/AuthErrors.ts"
export * from "../../domain/Oidc.ts"
export { Channel, ChannelSettings, Message, Visibility, Role } from "../../domain/Channel.ts"
export * from "../../domain/Errors.ts"
export * from "../../domain/Ids.ts"
export { User } from "../../domain/User.ts"
export * from "../../domain/WebAuthn.ts"
export * from "../../domain/WebAuthnErrors.ts"
export * from "../../domain/WebAuthnRpcs.ts"

export interface ClientOptions {
  /** Base URL of any node, e.g. `http://localhost:8080`. */
  readonly url: string
  /**
   * A bearer token: an access token from `Login` / `Register` (or `POST /api/v1/auth/login`). Without one, only the
   * operations that need none work (`Register`, `Login`, `Refresh`, `OidcProviders`, `OidcStart`, `OidcComplete`,
   * and the `WebAuthnRpcs`: `WebAuthnLoginOptions`, `WebAuthnLogin`, `WebAuthnMfaOptions`, `WebAuthnMfaVerify`).
   */
  readonly token?: string
  /**
   * The protocol version to announce in the `plexi-protocol` header (default: this build's, `PROTOCOL_VERSION`); a
   * node that does not serve it answers every call with `IncompatibleProtocol`.
   */
  readonly protocolVersion?: string
}

export class PlexiClient extends Context.Tag("plexichat/PlexiClient")<
  PlexiClient,
  RpcClient.RpcClient<RpcGroup.Rpcs<typeof PlexiRpcs>, RpcClientError>
>() {
  /** A client for one node and one token, over `fetch`. */
  static readonly layer = (options: ClientOptions): Layer.Layer<PlexiClient> =>
    Layer.scoped(PlexiClient, RpcClient.make(PlexiRpcs)).pipe(
      Layer.provide(RpcClient.layerProtocolHttp({ url: new URL("/rpc", options.url).toString() })),
      Layer.provide(RpcSerialization.layerNdjson),
      Layer.provide(Layer.effect(
        HttpClient.HttpClient,
        Effect.map(HttpClient.HttpClient, (client) => {
          const versioned = HttpClient.mapRequest(client, HttpClientRequest.setHeader(PROTOCOL_HEADER, options.protocolVersion ?? PROTOCOL_VERSION))
          return options.token === undefined ? versioned : HttpClient.mapRequest(versioned, HttpClientRequest.bearerToken(options.token))
        })
      ).pipe(Layer.provide(FetchHttpClient.layer)))
    )
}
