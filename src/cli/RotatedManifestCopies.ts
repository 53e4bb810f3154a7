/**
 * `--manifest-out <dir>` of the key rotation commands: a copy of each manifest the rotation changed, as
 * `<dir>/<backup id>.manifest`, to keep off the database in place of the older copies (`create --manifest-out`),
 * which still hold the old wrapping or signature. The files are written inside the rotation's transaction, before it
 * commits; none is overwritten (an existing one fails the rotation), and `undo` removes those written when the
 * rotation fails, so a failed rotation leaves no copy behind.
 */
import { mkdir, rm, writeFile } from "node:fs/promises"
import { join } from "node:path"
import { Effect } from "effect"
import { KeyRotationFailed } from "../backup/job/CatalogKeyRotation.ts"

export interface ManifestCopies {
  readonly write: (backupId: string, text: string) => Effect.Effect<void, KeyRotationFailed>
  /** The files written so far. */
  readonly written: () => ReadonlyArray<string>
  readonly undo: Effect.Effect<void>
}

const codeOf = (e: unknown) => (e as NodeJS.ErrnoException)?.code ?? String(e)

export const manifestCopies = (dir: string): ManifestCopies => {
  const written: Array<string> = []
  return {
    write: (backupId, text) =>
      Effect.tryPromise({
        try: async () => {
          const file = join(dir, `${backupId}.manifest`)
          await mkdir(dir, { recursive: true })
          await writeFile(file, text, { flag: "wx" })
          written.push(file)
        },
        catch: (e) => new KeyRotationFailed({ backup: backupId, reason: `cannot write its manifest copy in ${dir}: ${codeOf(e)}` })
      }),
    written: () => [...written],
    undo: Effect.promise(() => Promise.all(written.splice(0).map((file) => rm(file, { force: true })))).pipe(Effect.asVoid)
  }
}
