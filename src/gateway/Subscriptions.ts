/**
 * Who follows what on this edge: every open WebSocket session, indexed per
 * socket, per channel and per user, so that a revocation (a member left a
 * private channel) or a retain (a private channel's feed reopened with its
 * member list) touches only the affected sessions.
 *
 * Built once per edge, before the hub (whose `FanOut.revoke/retain` land
 * here) and the gateway (which registers its sessions), so nothing is wired
 * late. Connection and publish counts are metrics (hooks resolved once per edge: a publish is counted per
 * message at thin traffic, and a tagged update built a metric key each time).
 */
import type { ChannelId, UserId } from "../../domain/Ids.ts"
import { counterHook, gaugeHook } from "../observability/MetricHooks.ts"

/** What the index needs from a session. */
export interface Member {
  /** The session's user, once authenticated. */
  readonly userId: UserId | undefined
  /** Ends this session's live feed of `channelId` (its user may no longer read it). */
  readonly expel: (channelId: ChannelId) => void
}

/** One subscribe of a session to a channel; identity tells a superseded attempt from the current one. */
export interface Subscription {
  /** Set once the attach succeeded: gives the edge feed's reference back. */
  release: (() => void) | undefined
}

let edges = 0

const addTo = <K, V>(map: Map<K, Set<V>>, key: K, value: V) => {
  const set = map.get(key)
  if (set === undefined) map.set(key, new Set([value]))
  else set.add(value)
}

const removeFrom = <K, V>(map: Map<K, Set<V>>, key: K, value: V) => {
  const set = map.get(key)
  if (set === undefined) return
  set.delete(value)
  if (set.size === 0) map.delete(key)
}

export class Subscriptions {
  /** A session's subscriptions; created on its first subscribe (an idle socket costs no Map). */
  private readonly bySession = new Map<Member, Map<ChannelId, Subscription> | undefined>()
  private readonly byChannel = new Map<ChannelId, Set<Member>>()
  private readonly byUser = new Map<UserId, Set<Member>>()
  private readonly edge = { edge: String(++edges) }
  /** Open sessions on this edge (health's `connections`). */
  private readonly connections = gaugeHook("plexichat_ws_connections", "Open WebSocket sessions", this.edge)
  /** Fan-out batches published on this edge; the slow-consumer sweep skips rounds with none. */
  private readonly published = counterHook("plexichat_ws_published_batches", "uWS publish batches", this.edge)

  open(session: Member) {
    this.bySession.set(session, undefined)
    this.connections.update(this.bySession.size)
  }

  /** Forgets the session; returns its subscriptions so their references can be released. */
  close(session: Member): Array<[ChannelId, Subscription]> {
    if (!this.bySession.has(session)) return []
    const subs = this.bySession.get(session) ?? new Map<ChannelId, Subscription>()
    this.bySession.delete(session)
    for (const channelId of subs.keys()) removeFrom(this.byChannel, channelId, session)
    if (session.userId !== undefined) removeFrom(this.byUser, session.userId, session)
    this.connections.update(this.bySession.size)
    return Array.from(subs)
  }

  /** Indexes the session under its user, once: a session never changes user. */
  setUser(session: Member, userId: UserId) {
    if (this.bySession.has(session)) addTo(this.byUser, userId, session)
  }

  get(session: Member, channelId: ChannelId): Subscription | undefined {
    return this.bySession.get(session)?.get(channelId)
  }

  add(session: Member, channelId: ChannelId): Subscription {
    const sub: Subscription = { release: undefined }
    if (!this.bySession.has(session)) return sub
    let subs = this.bySession.get(session)
    if (subs === undefined) {
      subs = new Map()
      this.bySession.set(session, subs)
    }
    subs.set(channelId, sub)
    addTo(this.byChannel, channelId, session)
    return sub
  }

  /** Removes the subscription (whichever attempt it is); returns it, or undefined when there was none. */
  remove(session: Member, channelId: ChannelId): Subscription | undefined {
    const subs = this.bySession.get(session)
    const sub = subs?.get(channelId)
    if (sub === undefined) return undefined
    subs!.delete(channelId)
    removeFrom(this.byChannel, channelId, session)
    return sub
  }

  /** How many channels the session follows or is attaching to. */
  count(session: Member): number {
    return this.bySession.get(session)?.size ?? 0
  }

  sessionCount(): number {
    return this.bySession.size
  }

  notePublished() {
    this.published.update(1)
  }

  publishedCount(): number {
    return this.published.count()
  }

  /** Stops these users' live feeds of the channel (they left it). */
  revoke(channelId: ChannelId, userIds: ReadonlyArray<UserId>) {
    const following = this.byChannel.get(channelId)
    if (following === undefined) return
    for (const userId of userIds) {
      for (const session of Array.from(this.byUser.get(userId) ?? [])) if (following.has(session)) session.expel(channelId)
    }
  }

  /** Stops the live feeds of the channel for every session whose user is not in `members`. */
  retain(channelId: ChannelId, members: ReadonlySet<UserId>) {
    for (const session of Array.from(this.byChannel.get(channelId) ?? [])) {
      const userId = session.userId
      if (userId !== undefined && !members.has(userId)) session.expel(channelId)
    }
  }
}
