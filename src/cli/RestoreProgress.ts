/**
 * A restore's progress on stderr (docs/BACKUPS.md#the-cli): on a terminal a bar rewritten in place after each shard;
 * on a pipe one plain line per 10 %; nothing with `--json`.
 */
import { Console, Effect } from "effect"
import type { RestoreProgress } from "../backup/restore/RestoreBackup.ts"
import { bar, mib } from "./BackupCliSupport.ts"

const percentOf = (p: RestoreProgress) => p.shardsTotal === 0 ? 100 : Math.floor((100 * p.shardsDone) / p.shardsTotal)

const line = (p: RestoreProgress, started: number) => {
  const seconds = (Date.now() - started) / 1000
  const rate = seconds > 0 ? `, ${mib(p.plaintextBytes / seconds)} MiB/s` : ""
  return `restore ${p.backupId} ${percentOf(p)}%: ${p.shardsDone}/${p.shardsTotal} shards, ${mib(p.plaintextBytes)} MiB${rate}`
}

/** The `onProgress` of a restore, and what to call once it ended (ends the terminal's line). */
export const restoreProgress = (json: boolean): { readonly onProgress?: (p: RestoreProgress) => Effect.Effect<void>; readonly end: () => void } => {
  if (json) return { end: () => {} }
  const started = Date.now()
  if (process.stderr.isTTY) {
    let drawn = false
    return {
      onProgress: (p) => Effect.sync(() => {
        drawn = true
        process.stderr.write(`\r${bar(percentOf(p))} ${line(p, started)}\u001b[K`)
      }),
      end: () => {
        if (drawn) process.stderr.write("\n")
      }
    }
  }
  let last = -1
  return {
    onProgress: (p) => {
      const tenth = Math.floor(percentOf(p) / 10)
      if (tenth === last) return Effect.void
      last = tenth
      return Console.error(line(p, started))
    },
    end: () => {}
  }
}
