/**
 * Which browser origins may use this node: the CORS allow-list of the HTTP
 * API, and the WebSocket upgrade's same-origin rule plus its allow-list.
 * Pure functions of the settings, shared by the CORS middleware (Cors.ts),
 * the bridge's own refusals and the WebSocket upgrade (WsGateway.ts).
 */
import type { HardeningSettings } from "./HardeningConfig.ts"
import type { HeaderList } from "./SecurityHeaders.ts"

/** Whether `origin` (an `Origin` header) is on the CORS allow-list; closed when the list is empty. */
export const corsAllows = (settings: HardeningSettings) => {
  const allowed = new Set(settings.corsAllowedOrigins)
  return (origin: string): boolean => allowed.has(origin)
}

/**
 * The CORS headers of an answer to a request from `origin`: the origin itself
 * when it is allowed, and `Vary: Origin` always, so that no cache hands one
 * origin's answer to another.
 */
export const corsAnswerHeaders = (allows: (origin: string) => boolean) => (origin: string | null | undefined): HeaderList =>
  origin !== null && origin !== undefined && allows(origin)
    ? [["access-control-allow-origin", origin], ["vary", "Origin"]]
    : [["vary", "Origin"]]

/** `origin`'s host (with a port only when it is not the scheme's default), or `undefined` for no valid origin. */
const hostOf = (origin: string) => {
  try {
    const url = new URL(origin)
    return url.protocol === "http:" || url.protocol === "https:" ? { protocol: url.protocol, host: url.host } : undefined
  } catch {
    return undefined
  }
}

/** `host` (a `Host` header) as `URL` spells it for `protocol`: lower case, the default port left out. */
const normalHost = (protocol: string, host: string) => {
  // A Host is `host[:port]`; anything URL would read as a path, a query or credentials is not one.
  if (/[/?#@\\\s]/.test(host)) return undefined
  try {
    return new URL(`${protocol}//${host}`).host
  } catch {
    return undefined
  }
}

/**
 * Whether a WebSocket upgrade with this `Origin` and `Host` may proceed:
 * - no `Origin` header (`""`): yes, a client that is not a browser (a bot, a
 *   server, a CLI) sends none, and no browser page can leave it out;
 * - the Origin's host is the request's Host (same-origin): yes;
 * - the Origin is on `PLEXI_WS_ALLOWED_ORIGINS`: yes;
 * - anything else (another site, `null` from a sandboxed page or a file): no.
 */
export const upgradeAllows = (settings: HardeningSettings) => {
  const allowed = new Set(settings.wsAllowedOrigins)
  return (origin: string, host: string): boolean => {
    if (origin === "") return true
    if (allowed.has(origin)) return true
    const parsed = hostOf(origin)
    return parsed !== undefined && host !== "" && normalHost(parsed.protocol, host) === parsed.host
  }
}
