/**
 * Who is asking, as the edge saw it: the HTTP bridge writes the peer's
 * address into `PEER_ADDRESS_HEADER`, replacing any value a client sent
 * under that name, so handlers can record it (session device records).
 */
import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import { Effect } from "effect"

export const PEER_ADDRESS_HEADER = "x-plexi-peer-address"

/** The caller's address and user agent (at most 256 characters). */
export const clientOf = Effect.map(HttpServerRequest.HttpServerRequest, (request) => ({
  ip: request.headers[PEER_ADDRESS_HEADER] ?? "",
  userAgent: (request.headers["user-agent"] ?? "").slice(0, 256)
}))
