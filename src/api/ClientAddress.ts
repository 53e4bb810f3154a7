/**
 * Who is asking, as the edge saw it: the HTTP bridge writes the peer's
 * address into `PEER_ADDRESS_HEADER`, replacing any value a client sent
 * under that name, so handlers can record it (session device records).
 */
import type * as Headers from "@effect/platform/Headers"
import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import { Effect } from "effect"

export const PEER_ADDRESS_HEADER = "x-plexi-peer-address"

/** The caller's address and user agent (at most 256 characters), from a request's headers (REST or RPC). */
export const clientOfHeaders = (headers: Headers.Headers) => ({
  ip: headers[PEER_ADDRESS_HEADER] ?? "",
  userAgent: (headers["user-agent"] ?? "").slice(0, 256)
})

/**
 * The `ip` field of a Channel entity request (`ClientIp`): the address,
 * clipped to the 64 characters the audit log keeps, or none when unknown.
 */
export const ipField = (ip: string | undefined): { readonly ip?: string } => ip === undefined || ip === "" ? {} : { ip: ip.slice(0, 64) }

/** The REST caller's address and user agent. */
export const clientOf = Effect.map(HttpServerRequest.HttpServerRequest, (request) => clientOfHeaders(request.headers))
