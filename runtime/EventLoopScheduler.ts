/**
 * The node's fiber scheduler. Effect's default one drains the fibers' tasks
 * in microtasks, for up to 2,048 rounds per fiber before it gives way to a
 * timer, so a burst of work (a thousand subscribes arriving at once) runs for
 * seconds without a single socket read, Postgres reply or timer in between.
 * Measured on a node of three at the subscribe burst of the `thin3` bench:
 * event-loop stalls of 1.5–2.5 s, shard-lock refreshes and heartbeats
 * missed, the runners' sessions ended by their peers, every shard dropped.
 *
 * This one drains in microtasks too (no cost while the work is short), but
 * once it has been running tasks for `budgetMs` without a break it continues
 * in a `setImmediate`, after the event loop's poll phase: I/O callbacks and
 * timers then run at least every `budgetMs` (plus a few tasks), however much
 * work is queued.
 *
 * Two lanes: tasks of fibers with a negative scheduling priority
 * (`Effect.withSchedulingPriority(urgentPriority)`: the cluster's heartbeats
 * and shard-lock refreshes) run before any other queued task, so that a
 * backlog of requests delays them by one task, not by the backlog. Within a
 * lane, tasks run in the order they were queued.
 */
import { performance } from "node:perf_hooks"
import { Effect, FiberRef, Layer, Scheduler } from "effect"

/** The scheduling priority of the urgent lane (any negative priority is urgent). */
export const urgentPriority = -1

/** The effect's fiber and every fiber it forks run in the urgent lane. */
export const urgent = <A, E, R>(effect: Effect.Effect<A, E, R>) => Effect.withSchedulingPriority(effect, urgentPriority)

/** Every fiber the layer forks while it is built runs in the urgent lane. */
export const urgentLayer = <A, E, R>(layer: Layer.Layer<A, E, R>) =>
  Layer.locally(layer, FiberRef.currentSchedulingPriority, urgentPriority)

/** How many tasks run between two looks at the clock. */
const tasksPerLook = 8

export const makeEventLoopScheduler = (budgetMs: number): Scheduler.Scheduler => {
  let urgent: Array<Scheduler.Task> = []
  let normal: Array<Scheduler.Task> = []
  let running = false
  /** When the current run of drains began (the last time the event loop had a turn). */
  let since = 0

  const again = () => {
    if (urgent.length === 0 && normal.length === 0) running = false
    else if (performance.now() - since < budgetMs) queueMicrotask(drain)
    else setImmediate(afterIo)
  }

  /**
   * Runs `tasks` in order; stops early when out of budget, or (`normalLane`) when an urgent task arrived. Answers
   * how many of them ran.
   */
  const runLane = (tasks: Array<Scheduler.Task>, normalLane: boolean) => {
    for (let i = 0; i < tasks.length - 1; i++) {
      tasks[i]!()
      if (normalLane && urgent.length > 0) return i + 1
      if ((i + 1) % tasksPerLook === 0 && performance.now() - since >= budgetMs) return i + 1
    }
    if (tasks.length > 0) tasks[tasks.length - 1]!()
    return tasks.length
  }

  /**
   * Runs the tasks queued now, urgent first; tasks queued meanwhile wait for the next drain, as other microtasks do.
   * Those left when it stops early go back to the front of their lane.
   */
  const drain = () => {
    const queuedUrgent = urgent
    const queuedNormal = normal
    urgent = []
    normal = []
    const ranUrgent = runLane(queuedUrgent, false)
    if (ranUrgent < queuedUrgent.length) {
      urgent = queuedUrgent.slice(ranUrgent).concat(urgent)
      normal = queuedNormal.concat(normal)
    } else {
      const ranNormal = runLane(queuedNormal, true)
      if (ranNormal < queuedNormal.length) normal = queuedNormal.slice(ranNormal).concat(normal)
    }
    again()
  }

  const afterIo = () => {
    since = performance.now()
    drain()
  }

  return {
    shouldYield: (fiber) => Scheduler.defaultScheduler.shouldYield(fiber),
    scheduleTask: (task, priority) => {
      if (priority < 0) urgent.push(task)
      else normal.push(task)
      if (running) return
      running = true
      since = performance.now()
      queueMicrotask(drain)
    }
  }
}
