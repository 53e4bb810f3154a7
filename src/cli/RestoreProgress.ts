/**
 * A restore's progress on stderr (docs/BACKUPS.md#the-cli): on a terminal a bar rewritten in place after each shard;
 * on a pipe one plain line per 10 %; nothing with `--json` (`progressOnStderr`).
 */
import { Effect } from "effect"
import type { RestoreProgress } from "../backup/restore/RestoreBackup.ts"
import { mib, progressOnStderr } from "./BackupCliSupport.ts"

const percentOf = (p: RestoreProgress) => p.shardsTotal === 0 ? 100 : Math.floor((100 * p.shardsDone) / p.shardsTotal)

const line = (p: RestoreProgress, started: number) => {
  const seconds = (Date.now() - started) / 1000
  const rate = seconds > 0 ? `, ${mib(p.plaintextBytes / seconds)} MiB/s` : ""
  return `restore ${p.backupId} ${percentOf(p)}%: ${p.shardsDone}/${p.shardsTotal} shards, ${mib(p.plaintextBytes)} MiB${rate}`
}

/** The `onProgress` of a restore, and what to call once it ended (ends the terminal's line once a bar was drawn). */
export const restoreProgress = (json: boolean): { readonly onProgress?: (p: RestoreProgress) => Effect.Effect<void>; readonly end: () => void } => {
  if (json) return { end: () => {} }
  const started = Date.now()
  const show = progressOnStderr(json)
  let drawn = false
  return {
    onProgress: (p) => {
      drawn = true
      const percent = percentOf(p)
      return show(percent, String(Math.floor(percent / 10)), line(p, started))
    },
    end: () => {
      if (drawn && process.stderr.isTTY) process.stderr.write("\n")
    }
  }
}
