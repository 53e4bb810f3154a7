/**
 * The headers every HTTP answer of the node carries (docs/SECURITY.md,
 * "HTTP hardening"): written by the uWS bridge on every answer it writes, the
 * handler's and its own refusals alike, and on refused WebSocket upgrades. A
 * response that sets one of these itself (an HTML page with its own
 * `Content-Security-Policy`, later) keeps its own value.
 */
import { Duration } from "effect"
import type { HardeningSettings } from "./HardeningConfig.ts"

export type HeaderList = ReadonlyArray<readonly [name: string, value: string]>

/**
 * The API serves JSON only: a document that may load nothing and be framed
 * by nobody. An HTML page served later needs its own, least, policy.
 */
export const apiContentSecurityPolicy = "default-src 'none'; frame-ancestors 'none'"

export const securityHeaders = (settings: HardeningSettings): HeaderList => [
  ["x-content-type-options", "nosniff"],
  ["content-security-policy", apiContentSecurityPolicy],
  ["x-frame-options", "DENY"],
  ["referrer-policy", "no-referrer"],
  ...(settings.behindTls
    ? [["strict-transport-security", `max-age=${Math.floor(Duration.toSeconds(settings.hstsMaxAge))}`] as const]
    : [])
]
