/**
 * The node's fiber scheduler (runtime/EventLoopScheduler.ts): tasks of one
 * lane run in the order they were queued, urgent ones before queued normal
 * ones, and a backlog of work gives the event loop a turn once it has run for
 * the budget, where Effect's default scheduler would run the whole backlog in
 * microtasks first.
 */
import { performance } from "node:perf_hooks"
import { Effect, Fiber, Scheduler } from "effect"
import { describe, expect, it } from "vitest"
import { makeEventLoopScheduler, urgent, urgentPriority } from "../../runtime/EventLoopScheduler.ts"

/** Keeps the CPU busy for `ms` of wall time (a task that takes that long). */
const spin = (ms: number) => {
  const until = performance.now() + ms
  while (performance.now() < until) { /* busy */ }
}

/** Resolves once every task queued so far (and the tasks they queue) has run. */
const idle = (scheduler: Scheduler.Scheduler) =>
  new Promise<void>((resolve) => scheduler.scheduleTask(resolve, 1_000_000))

describe("EventLoopScheduler", () => {
  it("runs the tasks of a lane in the order they were queued", async () => {
    const scheduler = makeEventLoopScheduler(5)
    const ran: Array<number> = []
    for (let i = 0; i < 100; i++) scheduler.scheduleTask(() => ran.push(i), 0)
    await idle(scheduler)
    expect(ran).toEqual(Array.from({ length: 100 }, (_, i) => i))
  })

  it("runs an urgent task before the normal tasks queued ahead of it", async () => {
    const scheduler = makeEventLoopScheduler(5)
    const ran: Array<string> = []
    for (let i = 0; i < 5; i++) scheduler.scheduleTask(() => ran.push(`n${i}`), 0)
    scheduler.scheduleTask(() => ran.push("u"), urgentPriority)
    await idle(scheduler)
    expect(ran).toEqual(["u", "n0", "n1", "n2", "n3", "n4"])
  })

  it("an urgent task queued while normal tasks run goes next", async () => {
    const scheduler = makeEventLoopScheduler(1000)
    const ran: Array<string> = []
    scheduler.scheduleTask(() => {
      ran.push("n0")
      scheduler.scheduleTask(() => ran.push("u"), urgentPriority)
    }, 0)
    for (let i = 1; i < 4; i++) scheduler.scheduleTask(() => ran.push(`n${i}`), 0)
    await idle(scheduler)
    expect(ran).toEqual(["n0", "u", "n1", "n2", "n3"])
  })

  it("a backlog of work gives the event loop a turn once it ran for the budget", async () => {
    const scheduler = makeEventLoopScheduler(5)
    let done = 0
    for (let i = 0; i < 200; i++) {
      scheduler.scheduleTask(() => {
        spin(1)
        done++
      }, 0)
    }
    // Queued in the same turn as the backlog: it runs once the scheduler gives way, not after 200 ms of tasks.
    const atTurn = await new Promise<number>((resolve) => setImmediate(() => resolve(done)))
    expect(atTurn).toBeGreaterThan(0)
    expect(atTurn).toBeLessThan(20)
    await idle(scheduler)
    expect(done).toBe(200)
  })

  it("Effect's default scheduler runs the same backlog to the end before the event loop's turn (why this one exists)", async () => {
    let done = 0
    const fibers = Array.from({ length: 50 }, () =>
      Effect.runFork(Effect.sync(() => {
        spin(1)
        done++
      })))
    const atTurn = await new Promise<number>((resolve) => setImmediate(() => resolve(done)))
    expect(atTurn).toBe(50)
    await Effect.runPromise(Fiber.joinAll(fibers))
  })

  it("fibers run on it through Effect.withScheduler, an urgent fiber ahead of a backlog", async () => {
    const scheduler = makeEventLoopScheduler(5)
    const order: Array<string> = []
    const program = Effect.gen(function*() {
      const backlog = yield* Effect.forEach(Array.from({ length: 20 }, (_, i) => i), (i) => Effect.fork(Effect.sync(() => order.push(`n${i}`))))
      // Forked from the urgent lane, so that its very first task is urgent too.
      const first = yield* urgent(Effect.fork(Effect.sync(() => order.push("u"))))
      yield* Fiber.joinAll([...backlog, first])
    }).pipe(Effect.withScheduler(scheduler))
    await Effect.runPromise(program)
    expect(order).toHaveLength(21)
    // Forked last, it started first: the 20 normal fibers were still queued.
    expect(order[0]).toBe("u")
  })
})
