/**
 * The node's logger, chosen by `PLEXI_LOG_FORMAT` (runtime/LogConfig.ts):
 * - `pretty` (default): Effect's pretty logger, with the node's id as the
 *   `nodeId` annotation;
 * - `json`: one JSON object per line on stdout, Effect's structured record
 *   (`message`, `logLevel`, `timestamp`, `cause`, `annotations`, `spans`,
 *   `fiberId`) plus `nodeId`, and `traceId`/`spanId` when the line was
 *   logged inside a trace span.
 *
 * Secrets never reach a log as values: config secrets are `Redacted` (they
 * print as `<redacted>`), and every line, in either format, is scrubbed of
 * what looks like a credential anyway (a JWT, a `token=` query value, a
 * `Bearer` value, a URL's password), in case one slips into an error
 * message.
 */
import { Context, Effect, FiberRef, FiberRefs, Inspectable, Layer, Logger, Option, Tracer } from "effect"
import type { LogFormat } from "../LogConfig.ts"

const credentials: ReadonlyArray<readonly [RegExp, string]> = [
  [/eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]+/g, "<redacted jwt>"],
  [/([?&](?:token|access_token|refresh_token|code|password)=)[^&\s"']+/gi, "$1<redacted>"],
  [/(Bearer\s+)[^\s"',]+/gi, "$1<redacted>"],
  [/([a-z][a-z0-9+.-]*:\/\/[^:/?#@\s"']*:)[^@/?#\s"']+@/gi, "$1<redacted>@"]
]

/** `line` with anything that looks like a credential replaced. */
export const scrub = (line: string) => {
  let out = line
  for (const [pattern, replacement] of credentials) out = out.replace(pattern, replacement)
  return out
}

const spanOf = (context: FiberRefs.FiberRefs) =>
  Context.getOption(FiberRefs.getOrDefault(context, FiberRef.currentContext), Tracer.ParentSpan)

/** The `json` format's line of one log record. */
export const jsonLine = (nodeId: string) =>
  Logger.make<unknown, string>((options) => {
    const record = Logger.structuredLogger.log(options)
    const span = spanOf(options.context)
    return scrub(Inspectable.stringifyCircular({
      ...record,
      message: record.message instanceof Error ? { name: record.message.name, message: record.message.message } : record.message,
      nodeId,
      ...(Option.isSome(span) ? { traceId: span.value.traceId, spanId: span.value.spanId } : {})
    }))
  })

/**
 * The pretty logger writes through the console itself, several calls a
 * line: for as long as the layer lasts, the process's `console.log` and
 * `console.error` scrub their string arguments.
 */
const scrubbedConsole = Layer.scopedDiscard(Effect.acquireRelease(
  Effect.sync(() => {
    const { log, error } = globalThis.console
    const scrubbed = (write: (...args: Array<unknown>) => void) => (...args: Array<unknown>) =>
      write(...args.map((a) => (typeof a === "string" ? scrub(a) : a)))
    globalThis.console.log = scrubbed(log)
    globalThis.console.error = scrubbed(error)
    return { log, error }
  }),
  ({ log, error }) =>
    Effect.sync(() => {
      globalThis.console.log = log
      globalThis.console.error = error
    })
))

/** Replaces Effect's default logger with the node's; in `pretty`, every line is annotated with `nodeId`. */
export const layer = (format: LogFormat, nodeId: string): Layer.Layer<never> =>
  format === "json"
    ? Logger.replace(Logger.defaultLogger, Logger.withConsoleLog(jsonLine(nodeId)))
    : Layer.merge(Logger.replace(Logger.defaultLogger, Logger.prettyLogger()), scrubbedConsole)

/** The annotation every line of a `pretty` node carries (`json` has `nodeId` at the top level). */
export const annotate = (format: LogFormat, nodeId: string) => <A, E, R>(effect: Effect.Effect<A, E, R>) =>
  format === "json" ? effect : Effect.annotateLogs(effect, "nodeId", nodeId)
