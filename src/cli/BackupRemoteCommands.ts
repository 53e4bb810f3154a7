/**
 * The backup job from the CLI (docs/BACKUPS.md#the-cli): `backup create --url …` starts the job on the cluster
 * (RPC `StartBackup`) and follows it (`FollowBackup`) until it ends; `backup status <id> [--follow]` and
 * `backup cancel <id>`. On a terminal the progress is a bar on stderr, rewritten in place; otherwise one plain
 * line per step (and per 10 %) on stderr; `--json` prints only the final object on stdout. A backup that ends
 * `failed` exits 1 with its reason.
 */
import { writeFile } from "node:fs/promises"
import { Args, Command, Options } from "@effect/cli"
import { Console, Effect, Option, Stream } from "effect"
import { BackupKeyUnavailable, type BackupKind } from "../../domain/Backup.ts"
import type { BackupJobView } from "../../domain/BackupRpcs.ts"
import { PlexiClient } from "../client/PlexiClient.ts"
import { failed, jsonOption, mib, progressOnStderr, report } from "./BackupCliSupport.ts"
import { accessToken, asFailure, type RemoteFlags, remoteOptions, resolveTarget } from "./Remote.ts"

/** Runs `body` with a signed-in client for the target node, without the 30 s call timeout (a followed backup takes longer). */
const onCluster = <A, E>(flags: RemoteFlags, body: (client: PlexiClient["Type"]) => Effect.Effect<A, E>) =>
  Effect.gen(function*() {
    const target = yield* resolveTarget(flags)
    const token = yield* accessToken(target)
    return yield* Effect.flatMap(PlexiClient, body).pipe(
      Effect.provide(PlexiClient.layer({ url: target.url, token })),
      Effect.mapError(asFailure(target.url))
    )
  })

const line = (v: BackupJobView) =>
  `${v.backupId} ${v.step} ${v.percent}%: ${v.shards} shards, ${mib(v.plaintextBytes)} MiB${v.rate > 0 ? `, ${mib(v.rate)} MiB/s` : ""}${v.attempts > 1 ? ` (attempt ${v.attempts})` : ""}`

/** Shows each view as it comes: a bar on a terminal, a plain line per step and 10 % on a pipe, nothing with `--json`. */
const progress = (json: boolean) => {
  const show = progressOnStderr(json)
  return (v: BackupJobView) => show(v.percent, `${v.step} ${Math.floor(v.percent / 10)}`, line(v))
}

const summary = (v: BackupJobView) => {
  const { manifest: _, ...rest } = v
  return rest
}

/** Prints the final view; a failed backup exits 1 with its reason. */
const ended = (json: boolean, v: BackupJobView) =>
  Effect.gen(function*() {
    if (!json && process.stderr.isTTY) process.stderr.write("\n")
    if (v.state === "failed") {
      return yield* failed(json)({ _tag: "BackupFailed", backupId: v.backupId, reason: v.error ?? "failed" } as { readonly _tag: string })
    }
    const text = v.state === "committed"
      ? `committed ${v.backupId}: ${v.shards} shards, ${mib(v.plaintextBytes)} MiB`
      : line(v)
    yield* report(json, { ok: true, ...summary(v) }, text)
  })

const restartedAs = (v: BackupJobView) => (v.state === "failed" ? /^restarted as (bk_[0-9a-z]{26})/.exec(v.error ?? "")?.[1] : undefined)

const follow = (client: PlexiClient["Type"], backupId: string, json: boolean) => {
  const show = progress(json)
  return client.FollowBackup({ backupId }).pipe(Stream.tap(show), Stream.runLast, Effect.map(Option.getOrUndefined))
}

const jobTags = ["BackupAlreadyRunning", "BackupKeyUnavailable", "BackupFailed", "BackupNotFound", "BackupNotRunning"]

/** The job's typed errors printed as the other backup commands print theirs (exit 1); the rest goes to the CLI's exit codes. */
const jobErrors = (json: boolean) => <A, E, R>(effect: Effect.Effect<A, E, R>) =>
  Effect.catchIf(
    effect,
    (e): e is Extract<E, { readonly _tag: string }> => typeof e === "object" && e !== null && "_tag" in e && jobTags.includes(String(e._tag)),
    (e) => failed(json)(e as { readonly _tag: string })
  )

/** `create --url …`: the job on the cluster, followed to its end. */
export const createOnCluster = (flags: RemoteFlags, kind: BackupKind, json: boolean, manifestOut: Option.Option<string>) =>
  onCluster(flags, (client) =>
    Effect.gen(function*() {
      const started = yield* client.StartBackup({ kind })
      let final = (yield* follow(client, started.backupId, json)) ?? started
      // A job whose data changed under it after a resume starts over under a new id: follow that one.
      for (let next = restartedAs(final); next !== undefined; next = restartedAs(final)) {
        if (!json) yield* Console.error(`${final.backupId} ${final.error}`)
        final = (yield* follow(client, next, json)) ?? final
      }
      if (final.state === "committed" && Option.isSome(manifestOut) && final.manifest !== null) {
        const file = manifestOut.value
        const manifest = final.manifest
        yield* Effect.tryPromise({ try: () => writeFile(file, manifest, { flag: "wx" }), catch: (e) => new BackupKeyUnavailable({ file, reason: `cannot write the manifest: ${String(e)}` }) })
      }
      yield* ended(json, final)
    }).pipe(jobErrors(json)))

/** `list --url …`: the catalog through the nodes. */
export const listOnCluster = (flags: RemoteFlags) => onCluster(flags, (client) => client.ListBackups({}))

const idArg = Args.text({ name: "id" }).pipe(Args.withDescription("The backup's id."))

export const statusCommand = Command.make("status", {
  ...remoteOptions,
  json: jsonOption,
  id: idArg,
  follow: Options.boolean("follow").pipe(Options.withDescription("Follow its progress until it ends."))
}, (o) =>
  onCluster(o, (client) =>
    Effect.gen(function*() {
      const view = o.follow ? (yield* follow(client, o.id, o.json)) : yield* client.BackupStatus({ backupId: o.id })
      if (view === undefined) return
      if (o.follow || view.state !== "running") return yield* ended(o.json, view)
      yield* report(o.json, { ok: true, ...summary(view) }, line(view))
    }).pipe(jobErrors(o.json)))).pipe(
    Command.withDescription("A backup job's step, shards, bytes, percent and rate on the cluster (--follow: until it ends).")
  )

export const cancelCommand = Command.make("cancel", { ...remoteOptions, json: jsonOption, id: idArg }, (o) =>
  onCluster(o, (client) =>
    Effect.gen(function*() {
      const view = yield* client.CancelBackup({ backupId: o.id })
      yield* report(o.json, { ok: true, ...summary(view) }, `${view.backupId}: ${view.state}${view.error === null ? "" : ` (${view.error})`}`)
    }).pipe(jobErrors(o.json)))).pipe(
    Command.withDescription("Cancels a running backup job: its shards are removed, its entry ends failed (cancelled).")
  )
