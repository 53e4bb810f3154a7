/**
 * The checked setting kinds every unit's config module is built from. Each
 * reads one environment variable through Effect `Config`, with a default and
 * a description, and refuses an out-of-range value at start-up with an error
 * that names the variable.
 */
import { Config, Duration, type LogLevel, Redacted } from "effect"

const described = <A>(config: Config.Config<A>, fallback: A, description: string) =>
  config.pipe(Config.withDefault(fallback), Config.withDescription(description))

/** A whole number of at least `min` (a count, a size, a number of intervals). */
export const integerAtLeast = (name: string, min: number, fallback: number, description: string) =>
  described(
    Config.integer(name).pipe(
      Config.validate({ message: `${name} must be a whole number of at least ${min}`, validation: (n) => n >= min })
    ),
    fallback,
    description
  )

/** A whole number above zero. */
export const positiveInteger = (name: string, fallback: number, description: string) =>
  integerAtLeast(name, 1, fallback, description)

/** A finite number above zero (a rate). */
export const positiveNumber = (name: string, fallback: number, description: string) =>
  described(
    Config.number(name).pipe(
      Config.validate({
        message: `${name} must be a number above zero`,
        validation: (n) => n > 0 && Number.isFinite(n)
      })
    ),
    fallback,
    description
  )

/** A finite duration above zero, as an Effect duration string ("500 millis", "6 seconds"). */
export const positiveDuration = (name: string, fallback: Duration.Duration, description: string) =>
  described(
    Config.duration(name).pipe(
      Config.validate({
        message: `${name} must be a finite duration above zero`,
        validation: (d) => Duration.isFinite(d) && Duration.toMillis(d) > 0
      })
    ),
    fallback,
    description
  )

/** A duration from 0 up to `maxMs` (a wait that must stay short). */
export const shortDuration = (name: string, fallback: Duration.Duration, maxMs: number, description: string) =>
  described(
    Config.duration(name).pipe(
      Config.validate({
        message: `${name} must be a duration from 0 to ${maxMs} ms`,
        validation: (d) => Duration.isFinite(d) && Duration.toMillis(d) >= 0 && Duration.toMillis(d) <= maxMs
      })
    ),
    fallback,
    description
  )

/** A TCP port, 0 to 65535 (0: the OS chooses). */
export const port = (name: string, fallback: number, description: string) =>
  described(
    Config.integer(name).pipe(
      Config.validate({
        message: `${name} must be a TCP port from 0 to 65535 (0: the OS chooses)`,
        validation: (n) => n >= 0 && n <= 65535
      })
    ),
    fallback,
    description
  )

const nonEmpty = (name: string) =>
  Config.validate({ message: `${name} must not be empty`, validation: (s: string) => s.length > 0 })

const nonEmptySecret = (name: string) =>
  Config.validate({
    message: `${name} must not be empty`,
    validation: (s: Redacted.Redacted<string>) => Redacted.value(s).length > 0
  })

/** A non-empty string (a host, a directory, a name). */
export const text = (name: string, fallback: string, description: string) =>
  described(Config.string(name).pipe(nonEmpty(name)), fallback, description)

/** A non-empty string or, when unset, none; an empty value is an error, not "unset". */
export const optionalText = (name: string, description: string) =>
  Config.option(Config.string(name).pipe(nonEmpty(name))).pipe(Config.withDescription(description))

/** A non-empty secret, kept `Redacted` so that it never reaches a log. */
export const secret = (name: string, fallback: string, description: string) =>
  described(Config.redacted(name).pipe(nonEmptySecret(name)), Redacted.make(fallback), description)

/** A non-empty secret or, when unset, none. */
export const optionalSecret = (name: string, description: string) =>
  Config.option(Config.redacted(name).pipe(nonEmptySecret(name))).pipe(Config.withDescription(description))

const memoryUnits: Record<string, number> = { kB: 1, MB: 1024, GB: 1024 * 1024 }

/** A Postgres memory size ("16MB", "512kB", "1GB") of at least `minKb` kB, as Postgres itself spells it. */
export const postgresMemory = (name: string, minKb: number, fallback: string, description: string) =>
  described(
    Config.string(name).pipe(
      Config.validate({
        message: `${name} must be a whole number followed by kB, MB or GB (e.g. 16MB), at least ${minKb}kB`,
        validation: (s) => {
          const m = /^([1-9]\d*)(kB|MB|GB)$/.exec(s)
          return m !== null && Number(m[1]) * memoryUnits[m[2]!]! >= minKb
        }
      })
    ),
    fallback,
    description
  )

/** `true` or `false` (also `yes`/`no`, `on`/`off`, `1`/`0`). */
export const flag = (name: string, fallback: boolean, description: string) =>
  described(Config.boolean(name), fallback, description)

/** One of Effect's log level labels (`All`, `Trace`, `Debug`, `Info`, `Warn`, `Error`, `Fatal`, `Off`), in any case. */
export const logLevel = (name: string, fallback: LogLevel.LogLevel, description: string) =>
  described(Config.logLevel(name), fallback, description)

/** A browser origin as a browser sends it: `http` or `https`, a host, an optional port, nothing after. */
const isOrigin = (s: string) => {
  try {
    const url = new URL(s)
    return (url.protocol === "http:" || url.protocol === "https:") && url.origin === s
  } catch {
    return false
  }
}

const splitList = (s: string) => s.split(",").map((item) => item.trim()).filter((item) => item.length > 0)

/**
 * A comma-separated list of origins (`https://app.example.com,http://localhost:5173`), each exactly as a browser
 * sends it in `Origin` (lower case, no path, no trailing slash, no default port); unset or empty: none.
 */
export const originList = (name: string, description: string) =>
  described(
    Config.string(name).pipe(
      Config.validate({
        message: `${name} must be a comma-separated list of origins such as https://app.example.com (scheme, host and ` +
          `optional port, lower case, no path or trailing slash)`,
        validation: (s) => splitList(s).every(isOrigin)
      }),
      Config.map((s): ReadonlyArray<string> => splitList(s))
    ),
    [],
    description
  )

