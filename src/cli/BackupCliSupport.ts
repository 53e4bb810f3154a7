/**
 * What the backup commands share: their layers (the installation's Postgres, backup settings from the environment,
 * this node's shard directory), the manifest a command names (a catalog id or a file), and their output: text for
 * people, one JSON object with `--json`, and exit status 1 with the error's fields on any failure.
 */
import { readFile } from "node:fs/promises"
import { Options } from "@effect/cli"
import { Console, Effect, Layer, Option } from "effect"
import { BackupKeyUnavailable, BackupNotFound } from "../../domain/Backup.ts"
import { BackupConfig, layerFromEnv as backupConfigFromEnv } from "../backup/BackupConfig.ts"
import * as Catalog from "../backup/job/BackupCatalog.ts"
import { layerLocalShardDirectory } from "../backup/store/LocalShardDirectory.ts"
import { Database } from "./CliDatabase.ts"

export const jsonOption = Options.boolean("json").pipe(Options.withDescription("Print one JSON object (for scripts) instead of text."))

const configLayer = backupConfigFromEnv()

/** Backup settings and this node's shard directory (PLEXI_BACKUP_SHARD_DIR). */
export const ShardsLayer = Layer.merge(
  configLayer,
  Layer.unwrapEffect(Effect.map(BackupConfig, (c) => layerLocalShardDirectory(c.shardDir))).pipe(Layer.provide(configLayer))
)

/** The installation's Postgres, settings and shards: what `create`, `list` and `verify` need. */
export const BackupLayer = Layer.merge(Database, ShardsLayer)

/** Prints `value` as JSON, or `text` for people. */
export const report = (json: boolean, value: object, text: string) => Console.log(json ? JSON.stringify(value) : text)

/** A failure's fields as the output shows them: `{ok: false, error: {...}}` with `--json`, one line on stderr always. */
export const failed = (json: boolean) => (error: { readonly _tag: string }) =>
  Effect.gen(function*() {
    const fields = Object.fromEntries(Object.entries(error as object).filter(([k]) => !k.startsWith("_") || k === "_tag"))
    if (json) yield* Console.log(JSON.stringify({ ok: false, error: fields }))
    const described = Object.entries(fields).filter(([k, v]) => k !== "_tag" && v !== null).map(([k, v]) => `${k} ${String(v)}`).join("; ")
    yield* Console.error(`${error._tag}: ${described}`)
    yield* Effect.sync(() => {
      process.exitCode = 1
    })
  })

export const manifestFileOption = Options.text("manifest").pipe(
  Options.withDescription("A signed manifest file (as `create --manifest-out` writes it) instead of a catalog id; for restore, repeat it for a chain, oldest first."),
  Options.repeated
)

const readManifest = (path: string) =>
  Effect.tryPromise({
    try: () => readFile(path, "utf8"),
    catch: (e) => new BackupKeyUnavailable({ file: path, reason: `cannot read the manifest: ${(e as NodeJS.ErrnoException)?.code ?? String(e)}` })
  }).pipe(Effect.map((text) => ({ label: path, text })))

const committed = (id: string) =>
  Effect.gen(function*() {
    const found = yield* Catalog.find(id)
    if (Option.isNone(found)) return yield* Effect.fail(new BackupNotFound({ backupId: id, reason: "not in the catalog" }))
    const { entry, manifest } = found.value
    if (manifest === null) return yield* Effect.fail(new BackupNotFound({ backupId: id, reason: `it is ${entry.state}, not committed` }))
    return { label: id, text: manifest, parent: entry.parent }
  })

/**
 * The signed manifests a command names, oldest first: the files given, else the catalog's chain ending at `id` (its
 * parents back to the full backup).
 */
export const manifestsNamed = (id: Option.Option<string>, files: ReadonlyArray<string>) =>
  files.length > 0
    ? Effect.forEach(files, readManifest)
    : Effect.gen(function*() {
      if (Option.isNone(id)) return yield* Effect.fail(new BackupNotFound({ backupId: "", reason: "name a backup id or --manifest <file>" }))
      const chain: Array<{ readonly label: string; readonly text: string }> = []
      for (let next: string | null = id.value; next !== null && chain.length < 10_000;) {
        const found: { readonly label: string; readonly text: string; readonly parent: string | null } = yield* committed(next)
        chain.unshift({ label: found.label, text: found.text })
        next = found.parent
      }
      return chain
    }).pipe(Effect.provide(Database))

export const mib = (bytes: number) => (bytes / (1024 * 1024)).toFixed(1)

/** A 20-cell progress bar: `[#####---------------]` at 25 %. */
const bar = (percent: number) => {
  const filled = Math.max(0, Math.min(20, Math.round(percent / 5)))
  return `[${"#".repeat(filled)}${"-".repeat(20 - filled)}]`
}

/**
 * Long work's progress on stderr: on a terminal `line` after a bar at `percent`, rewritten in place; on a pipe
 * `line` as a plain line whenever `step` changed (e.g. each 10 %); nothing with `--json`.
 */
export const progressOnStderr = (json: boolean): (percent: number, step: string, line: string) => Effect.Effect<void> => {
  if (json) return () => Effect.void
  if (process.stderr.isTTY) return (percent, _step, line) => Effect.sync(() => process.stderr.write(`\r${bar(percent)} ${line}\u001b[K`))
  let last: string | undefined
  return (_percent, step, line) => {
    if (step === last) return Effect.void
    last = step
    return Console.error(line)
  }
}
