/**
 * `BackupShards` in one directory on this node: the embedded single node's store (one replica) and the base that a
 * node's own shard store builds on. A shard is the file `<dir>/<hash[0..2]>/<hash>`, written to a temporary name,
 * flushed and renamed, so a crash or a full disk never leaves a partial shard under its address.
 */
import { createHash, randomUUID } from "node:crypto"
import * as fs from "node:fs/promises"
import * as path from "node:path"
import { Effect, Layer, Stream } from "effect"
import {
  BackupShards,
  type BackupShardsService,
  isShardHash,
  ShardInvalid,
  ShardMissing,
  ShardStoreFailed
} from "./BackupShards.ts"

const sha256 = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("hex")

const checked = (hash: string): Effect.Effect<string, ShardInvalid> =>
  isShardHash(hash) ? Effect.succeed(hash) : Effect.fail(new ShardInvalid({ hash: String(hash), reason: "not 64 lower-case hex digits" }))

const failed = (hash: string, what: string) => (cause: unknown) =>
  new ShardStoreFailed({ hash, reason: `${what}: ${cause instanceof Error ? cause.message : String(cause)}` })

/** A `BackupShards` over `dir` (created when missing), reporting its copies as held by `storeId`. */
export const makeLocalShardDirectory = (dir: string, storeId = "local"): BackupShardsService => {
  const fileOf = (hash: string) => path.join(dir, hash.slice(0, 2), hash)
  const write = (hash: string, bytes: Uint8Array) =>
    Effect.tryPromise({
      try: async () => {
        const file = fileOf(hash)
        await fs.mkdir(path.dirname(file), { recursive: true })
        const temp = `${file}.${randomUUID()}.tmp`
        try {
          const handle = await fs.open(temp, "wx")
          try {
            await handle.writeFile(bytes)
            await handle.sync()
          } finally {
            await handle.close()
          }
          await fs.rename(temp, file)
        } catch (cause) {
          await fs.rm(temp, { force: true })
          throw cause
        }
      },
      catch: failed(hash, `writing to ${dir}`)
    })
  const exists = (hash: string) =>
    Effect.tryPromise({
      try: () => fs.access(fileOf(hash)).then(() => true, (e) => (e?.code === "ENOENT" ? false : Promise.reject(e))),
      catch: failed(hash, `reading ${dir}`)
    })
  return {
    store: (hash, bytes) =>
      checked(hash).pipe(
        Effect.filterOrFail(() => sha256(bytes) === hash, () => new ShardInvalid({ hash, reason: "bytes do not match the hash" })),
        Effect.zipRight(exists(hash)),
        Effect.flatMap((present) => (present ? Effect.void : write(hash, bytes))),
        Effect.as({ hash, replicas: [storeId], wanted: 1 })
      ),
    retrieve: (hash) =>
      checked(hash).pipe(
        Effect.zipRight(Effect.tryPromise({ try: () => fs.readFile(fileOf(hash)), catch: (e) => e })),
        Effect.mapError((e) =>
          e instanceof ShardInvalid ? e : new ShardMissing({ hash, reason: `${storeId}: ${(e as NodeJS.ErrnoException)?.code ?? String(e)}` })),
        Effect.filterOrFail(
          (bytes) => sha256(bytes) === hash,
          () => new ShardMissing({ hash, reason: `${storeId}: the stored copy does not match its hash` })
        ),
        Effect.map((bytes) => new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength))
      ),
    has: (hash) => checked(hash).pipe(Effect.zipRight(exists(hash))),
    remove: (hash) =>
      checked(hash).pipe(
        Effect.zipRight(Effect.tryPromise({ try: () => fs.rm(fileOf(hash), { force: true }), catch: failed(hash, `removing from ${dir}`) }))
      ),
    // A new generator per run: one made once would be spent by the first listing, and every later one would be empty.
    list: Stream.suspend(() => Stream.fromAsyncIterable(listHashes(dir), failed("*", `listing ${dir}`)))
  }
}

async function* listHashes(dir: string): AsyncGenerator<string> {
  const prefixes = await fs.readdir(dir).catch((e) => (e?.code === "ENOENT" ? [] : Promise.reject(e)))
  for (const prefix of prefixes.sort()) {
    if (!/^[0-9a-f]{2}$/.test(prefix)) continue
    for (const name of (await fs.readdir(path.join(dir, prefix))).sort()) {
      if (isShardHash(name) && name.startsWith(prefix)) yield name
    }
  }
}

/** The layer of `makeLocalShardDirectory(dir)`. */
export const layerLocalShardDirectory = (dir: string, storeId?: string) =>
  Layer.succeed(BackupShards, makeLocalShardDirectory(dir, storeId))
