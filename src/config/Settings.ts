/**
 * The checked setting kinds every unit's config module is built from. Each
 * reads one environment variable through Effect `Config`, with a default and
 * a description, and refuses an out-of-range value at start-up with an error
 * that names the variable.
 */
import { Config, Duration } from "effect"

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
