/**
 * Per-address limits on open WebSockets: every socket holds a file
 * descriptor, so one address may hold at most `maxPerIp` of them, and at
 * most `maxUnauthenticatedPerIp` that have not authenticated yet. An upgrade
 * over a limit is refused (HTTP 429); each refusal is logged at most once
 * per `logIntervalMs` per address and limit, with the count since.
 */
import { rateLimited } from "../observability/ChatMetrics.ts"

export interface ConnectionLimitOptions {
  readonly maxPerIp: number
  readonly maxUnauthenticatedPerIp: number
  readonly logIntervalMs: number
  /** Authenticated sockets of one user (counted by the gateway, `Gateway.ts`); unset: no limit. */
  readonly maxPerUser?: number
}

export type LimitKind = "connections_per_ip" | "unauthenticated_per_ip" | "connections_per_user"

interface Counts {
  open: number
  unauthenticated: number
}

interface LogState {
  loggedAt: number
  suppressed: number
}

export class ConnectionLimits {
  private readonly byIp = new Map<string, Counts>()
  private readonly logs = new Map<string, LogState>()

  constructor(
    private readonly options: ConnectionLimitOptions,
    private readonly log: (message: string) => void
  ) {}

  /** The limit an upgrade from `ip` would break, or undefined when it fits. */
  check(ip: string, authenticated: boolean, now: number): LimitKind | undefined {
    const counts = this.byIp.get(ip)
    const kind: LimitKind | undefined = counts === undefined
      ? undefined
      : counts.open >= this.options.maxPerIp
      ? "connections_per_ip"
      : !authenticated && counts.unauthenticated >= this.options.maxUnauthenticatedPerIp
      ? "unauthenticated_per_ip"
      : undefined
    if (kind !== undefined) this.noteRefusal(ip, kind, now)
    return kind
  }

  opened(ip: string, authenticated: boolean) {
    const counts = this.byIp.get(ip) ?? { open: 0, unauthenticated: 0 }
    counts.open++
    if (!authenticated) counts.unauthenticated++
    this.byIp.set(ip, counts)
  }

  authenticated(ip: string) {
    const counts = this.byIp.get(ip)
    if (counts !== undefined && counts.unauthenticated > 0) counts.unauthenticated--
  }

  closed(ip: string, authenticated: boolean) {
    const counts = this.byIp.get(ip)
    if (counts === undefined) return
    counts.open--
    if (!authenticated && counts.unauthenticated > 0) counts.unauthenticated--
    if (counts.open <= 0) this.byIp.delete(ip)
  }

  noteRefusal(ip: string, kind: LimitKind, now: number) {
    rateLimited.ws_connections.update(1)
    const key = `${kind} ${ip}`
    const state = this.logs.get(key)
    if (state !== undefined && now - state.loggedAt < this.options.logIntervalMs) {
      state.suppressed++
      return
    }
    const limit = kind === "connections_per_ip"
      ? this.options.maxPerIp
      : kind === "connections_per_user"
      ? this.options.maxPerUser
      : this.options.maxUnauthenticatedPerIp
    const more = state === undefined || state.suppressed === 0 ? "" : ` (${state.suppressed} more refused since the last report)`
    this.log(`WebSocket connection limit reached for ${ip}: ${kind} = ${limit}; upgrade refused with 429${more}`)
    this.logs.set(key, { loggedAt: now, suppressed: 0 })
    // Forget old log states so an attack from many addresses does not grow the map forever.
    if (this.logs.size > 10_000) {
      for (const [k, s] of this.logs) if (now - s.loggedAt >= this.options.logIntervalMs) this.logs.delete(k)
    }
  }
}
