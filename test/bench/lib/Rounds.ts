/**
 * Rounds and their statistics: every scenario measures PlexiChat and its
 * baseline `BENCH_ROUNDS` times (default 3), alternating which goes first, and
 * reports min / median / max of each figure.
 */
export const rounds = Math.max(1, Number(process.env.BENCH_ROUNDS ?? 3))

/**
 * Runs `plexi` and `baseline` once per round, PlexiChat first in even rounds
 * and the baseline first in odd ones, so that neither always gets the fresher
 * or the more loaded half of the machine.
 */
export const alternate = async <P, B>(plexi: (round: number) => Promise<P>, baseline: (round: number) => Promise<B>) => {
  const p: Array<P> = []
  const b: Array<B> = []
  for (let round = 0; round < rounds; round++) {
    if (round % 2 === 0) {
      p.push(await plexi(round))
      b.push(await baseline(round))
    } else {
      b.push(await baseline(round))
      p.push(await plexi(round))
    }
    console.error(`  round ${round + 1}/${rounds} done`)
  }
  return { plexi: p, baseline: b }
}

export interface Spread {
  readonly min: number
  readonly median: number
  readonly max: number
}

export const spread = (values: ReadonlyArray<number>): Spread => {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = Math.floor(sorted.length / 2)
  const median = sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2
  return { min: sorted[0]!, median, max: sorted[sorted.length - 1]! }
}

const number = (value: number, digits: number) =>
  value.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits })

/** "min / median / max" of the values (a single value when there was one round). */
export const fmt3 = (values: ReadonlyArray<number>, digits = 0, unit = "") => {
  const s = spread(values)
  const u = unit === "" ? "" : ` ${unit}`
  return values.length === 1
    ? `${number(s.median, digits)}${u}`
    : `${number(s.min, digits)} / ${number(s.median, digits)} / ${number(s.max, digits)}${u}`
}

export const median = (values: ReadonlyArray<number>) => spread(values).median

/** Nearest-rank percentile of sorted samples (shared with `plexichat bench`). */
export { percentile } from "../../../src/cli/bench/Percentile.ts"
