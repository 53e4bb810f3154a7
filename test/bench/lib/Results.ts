/** The results table every scenario adds its rows to, printed at the end of the run. */
export interface Row {
  readonly scenario: string
  /** PlexiChat's figure, "min / median / max" over the rounds. */
  readonly plexi: string
  readonly baseline: string
  /** PlexiChat over baseline, of the medians. */
  readonly ratio: string
  /** CPU of the node(s) (and of Postgres where there is one) per unit of work. */
  readonly cpu: string
  readonly target: string
  readonly met: boolean
}

const rows: Array<Row> = []
const failures: Array<string> = []

export const report = (row: Row) => {
  rows.push(row)
  console.error(`  ${row.scenario}: ${row.plexi} | ${row.baseline} | ${row.ratio} | ${row.cpu} | met: ${row.met ? "yes" : "no"}`)
}

export const reportFailure = (scenario: string, error: unknown) => {
  failures.push(`${scenario}: ${error instanceof Error ? error.message.split("\n")[0] : String(error)}`)
}

export const printResults = (header: string) => {
  console.log(`\n${header}\n`)
  console.log("| scenario | PlexiChat | baseline (same run) | ratio (medians) | CPU per unit (PlexiChat) | target | met |")
  console.log("|---|---|---|---|---|---|---|")
  for (const r of rows) {
    console.log(`| ${r.scenario} | ${r.plexi} | ${r.baseline} | ${r.ratio} | ${r.cpu} | ${r.target} | ${r.met ? "yes" : "no"} |`)
  }
  for (const f of failures) console.log(`\nFAILED ${f}`)
  return failures.length
}
