/**
 * The audit log service every part of a node records security events
 * through: `record(event)` for the hot paths (queued, never waits for the
 * database, never fails its caller), `write(event)` where the caller must
 * know the entry is stored, and `appendIn(events)` to append inside the
 * caller's own transaction (a role change and its entry commit together).
 *
 * Queued events are appended by one writer fiber per node, in batches of up
 * to 500 (one transaction each: lock the chain's head row, insert, move the
 * head). While the database is away the writer retries with backoff
 * (logged) and the queue holds up to `capacity` events; past that, events
 * are dropped, counted, logged as errors, and an `audit.dropped` entry with
 * the count is appended once the log is writable again, so a loss is never
 * silent. On shutdown the queue is flushed (at most 5 s).
 */
import { SqlClient } from "@effect/sql"
import type { SqlError } from "@effect/sql/SqlError"
import { Chunk, Clock, Context, Duration, Effect, FiberRef, Layer, Queue, Schedule } from "effect"
import type { AuditEntry, AuditHead, AuditQuery } from "../../domain/Audit.ts"
import type { ChainInput } from "./AuditChain.ts"
import * as AuditRows from "./AuditRows.ts"

/** A security event. `actor` is the user who acted (none: anonymous, e.g. a failed sign-in); `ip` defaults to `AuditOrigin`'s. */
export interface AuditEvent {
  readonly actor?: string | null | undefined
  readonly action: string
  readonly target?: string | null | undefined
  readonly ip?: string | null | undefined
  readonly details?: Record<string, unknown> | undefined
}

/** The client address of the request a fiber serves (set by the HTTP edge for every request), for events without `ip`. */
export const AuditOrigin = FiberRef.unsafeMake<{ readonly ip?: string }>({})

export interface AuditLogShape {
  /** Queues `event`; returns at once and never fails (a full queue drops and counts it). */
  readonly record: (event: AuditEvent) => Effect.Effect<void>
  /** Appends `event` and waits until it is committed. */
  readonly write: (event: AuditEvent) => Effect.Effect<void, SqlError>
  /** Appends `events` as part of the transaction the caller runs this in. */
  readonly appendIn: (events: ReadonlyArray<AuditEvent>) => Effect.Effect<void, SqlError>
  readonly query: (q: AuditQuery) => Effect.Effect<Array<AuditEntry>, SqlError>
  /** The newest entry's seq, hash and time: what an operator copies off the database to anchor the chain. */
  readonly head: Effect.Effect<AuditHead, SqlError>
  /** Waits until every event recorded before this call is committed (or dropped). */
  readonly flush: Effect.Effect<void>
}

export class AuditLog extends Context.Tag("plexichat/AuditLog")<AuditLog, AuditLogShape>() {
  /** The node's audit log, labelling its entries with `node`. */
  static readonly layer = (node: string, options: { readonly capacity?: number; readonly batch?: number } = {}) =>
    Layer.scoped(AuditLog, make(node, options.capacity ?? 10_000, options.batch ?? 500))
}

const make = (node: string, capacity: number, batch: number) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const append = AuditRows.append(sql)
    const queue = yield* Queue.dropping<ChainInput>(capacity)
    let offered = 0
    let settled = 0
    let dropped = 0

    const inputOf = (event: AuditEvent) =>
      Effect.zipWith(Clock.currentTimeMillis, FiberRef.get(AuditOrigin), (at, origin): ChainInput => ({
        at,
        node,
        action: event.action,
        actor: event.actor,
        target: event.target,
        ip: event.ip ?? origin.ip,
        details: event.details
      }))

    const record = (event: AuditEvent) =>
      Effect.flatMap(inputOf(event), (input) => {
        offered++
        return Effect.flatMap(queue.offer(input), (queued) => {
          if (queued) return Effect.void
          settled++
          dropped++
          return dropped === 1 || dropped % 1000 === 0
            ? Effect.logError("audit queue full: events dropped (an audit.dropped entry will count them)", { dropped })
            : Effect.void
        })
      })

    const retrying = Schedule.exponential("100 millis").pipe(Schedule.union(Schedule.spaced("5 seconds")))

    const writeBatch = (inputs: Array<ChainInput>) =>
      Effect.gen(function*() {
        const lost = dropped
        dropped = 0
        const events = lost === 0 ? inputs : [...inputs, { at: yield* Clock.currentTimeMillis, node, action: "audit.dropped", details: { count: lost } }]
        yield* append(events).pipe(
          Effect.tapError((error) => Effect.logWarning("audit append failed; retrying", error)),
          Effect.retry(retrying)
        )
        settled += inputs.length
      })

    yield* Effect.forkScoped(Effect.forever(Effect.flatMap(Queue.takeBetween(queue, 1, batch), (chunk) => writeBatch(Chunk.toArray(chunk)))))

    const flush = Effect.suspend(() => {
      const target = offered
      return Effect.repeat(Effect.sync(() => settled >= target), {
        until: (done) => done,
        schedule: Schedule.spaced("10 millis")
      }).pipe(Effect.asVoid)
    })

    yield* Effect.addFinalizer(() =>
      flush.pipe(
        Effect.timeout(Duration.seconds(5)),
        Effect.catchAll(() => Effect.logError("audit log: events still queued at shutdown were lost", { queued: offered - settled }))
      )
    )

    return AuditLog.of({
      record,
      write: (event) => Effect.flatMap(inputOf(event), (input) => Effect.asVoid(append([input]))),
      appendIn: (events) => Effect.flatMap(Effect.forEach(events, inputOf), (inputs) => Effect.asVoid(append(inputs))),
      query: AuditRows.query(sql),
      head: Effect.map(AuditRows.newest(sql), ({ at, hash, seq }) => ({ seq, hash, at })),
      flush
    })
  })
