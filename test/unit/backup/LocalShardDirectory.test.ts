/**
 * LocalShardDirectory: a shard stored is retrieved byte for byte, storing it again writes nothing, bytes that do not
 * match their hash are refused, a copy changed on disk reads as ShardMissing, `list` names every shard once; and on a
 * full disk (a 256 KiB tmpfs) a store fails ShardStoreFailed and leaves no file, partial or temporary, behind.
 */
import { execFileSync } from "node:child_process"
import { createHash, randomBytes } from "node:crypto"
import * as fs from "node:fs"
import { tmpdir } from "node:os"
import * as path from "node:path"
import { Chunk, Effect, Stream } from "effect"
import { afterAll, beforeEach, describe, expect, it } from "vitest"
import { makeLocalShardDirectory } from "../../../src/backup/store/LocalShardDirectory.ts"

const sha256 = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("hex")
const run = <A, E>(effect: Effect.Effect<A, E>) => Effect.runPromise(effect)
const failure = <A, E>(effect: Effect.Effect<A, E>) => Effect.runPromise(Effect.flip(effect))
const filesUnder = (dir: string): Array<string> =>
  fs.readdirSync(dir, { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).map((e) => path.join(e.parentPath, e.name))

const root = fs.mkdtempSync(path.join(tmpdir(), "plexi-shards-"))
afterAll(() => fs.rmSync(root, { recursive: true, force: true }))

describe("LocalShardDirectory", () => {
  let dir: string
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(root, "dir-"))
  })

  it("stores a shard at <dir>/<hash[0..2]>/<hash> and retrieves the same bytes", async () => {
    const store = makeLocalShardDirectory(dir, "node-a")
    const bytes = randomBytes(70_000)
    const hash = sha256(bytes)
    expect(await run(store.store(hash, bytes))).toEqual({ hash, replicas: ["node-a"], wanted: 1 })
    expect(fs.readFileSync(path.join(dir, hash.slice(0, 2), hash))).toEqual(bytes)
    expect(Buffer.from(await run(store.retrieve(hash)))).toEqual(bytes)
    expect(await run(store.has(hash))).toBe(true)
  })

  it("stores a shard that is already stored without writing it again", async () => {
    const store = makeLocalShardDirectory(dir)
    const bytes = randomBytes(1000)
    const hash = sha256(bytes)
    await run(store.store(hash, bytes))
    const file = path.join(dir, hash.slice(0, 2), hash)
    const before = fs.statSync(file, { bigint: true })
    await run(store.store(hash, bytes))
    const after = fs.statSync(file, { bigint: true })
    expect([after.ino, after.mtimeNs]).toEqual([before.ino, before.mtimeNs])
    expect(filesUnder(dir)).toEqual([file])
  })

  it("refuses bytes whose SHA-256 is not their hash, and a hash that is not an address", async () => {
    const store = makeLocalShardDirectory(dir)
    const bytes = randomBytes(100)
    const other = sha256(randomBytes(100))
    expect(await failure(store.store(other, bytes))).toMatchObject({ _tag: "ShardInvalid", hash: other, reason: "bytes do not match the hash" })
    expect(await failure(store.store("../../etc/passwd", bytes))).toMatchObject({ _tag: "ShardInvalid" })
    expect(await failure(store.retrieve(other.toUpperCase()))).toMatchObject({ _tag: "ShardInvalid" })
    expect(filesUnder(dir)).toEqual([])
  })

  it("reads a copy changed on disk, or a missing one, as ShardMissing naming the shard and the store", async () => {
    const store = makeLocalShardDirectory(dir, "node-b")
    const bytes = randomBytes(4096)
    const hash = sha256(bytes)
    await run(store.store(hash, bytes))
    const file = path.join(dir, hash.slice(0, 2), hash)
    const corrupt = Buffer.from(bytes)
    corrupt[1234]! ^= 0x01
    fs.writeFileSync(file, corrupt)
    expect(await failure(store.retrieve(hash))).toEqual(
      expect.objectContaining({ _tag: "ShardMissing", hash, reason: "node-b: the stored copy does not match its hash" })
    )
    fs.rmSync(file)
    expect(await failure(store.retrieve(hash))).toEqual(expect.objectContaining({ _tag: "ShardMissing", hash, reason: "node-b: ENOENT" }))
    expect(await run(store.has(hash))).toBe(false)
  })

  it("lists every shard once, in order, skipping stray files; removing is idempotent", async () => {
    const store = makeLocalShardDirectory(dir)
    const hashes = await run(Effect.forEach(Array.from({ length: 20 }, () => randomBytes(64)), (bytes) =>
      Effect.map(store.store(sha256(bytes), bytes), (p) => p.hash)))
    fs.writeFileSync(path.join(dir, hashes[0]!.slice(0, 2), `${hashes[0]}.abc.tmp`), "partial")
    fs.writeFileSync(path.join(dir, "README"), "not a shard")
    expect(Chunk.toArray(await run(Stream.runCollect(store.list)))).toEqual([...hashes].sort())
    await run(store.remove(hashes[0]!))
    await run(store.remove(hashes[0]!))
    expect(Chunk.toArray(await run(Stream.runCollect(store.list)))).toEqual(hashes.slice(1).sort())
  })

  it("lists nothing for a directory that does not exist yet", async () => {
    const store = makeLocalShardDirectory(path.join(dir, "not-yet"))
    expect(Chunk.toArray(await run(Stream.runCollect(store.list)))).toEqual([])
  })
})

/** A 256 KiB tmpfs, when this process may mount one (root); otherwise the reason it cannot. */
const tinyDisk = (): { dir: string; unmount: () => void } | string => {
  if (process.getuid?.() !== 0) return "not root: cannot mount a tmpfs"
  const dir = fs.mkdtempSync(path.join(root, "full-"))
  try {
    execFileSync("mount", ["-t", "tmpfs", "-o", "size=256k", "tmpfs", dir], { stdio: "pipe" })
  } catch (error) {
    return `mount -t tmpfs failed: ${String(error)}`
  }
  return { dir, unmount: () => execFileSync("umount", [dir]) }
}

describe("LocalShardDirectory on a full disk", () => {
  const disk = tinyDisk()
  if (typeof disk === "string") console.warn(`skipping the full-disk test: ${disk}`)
  afterAll(() => {
    if (typeof disk !== "string") disk.unmount()
  })

  it.skipIf(typeof disk === "string")("fails ShardStoreFailed on ENOSPC and leaves no file under the shard's address", async () => {
    const { dir } = disk as { dir: string }
    const store = makeLocalShardDirectory(dir, "tiny")
    const small = randomBytes(100 * 1024)
    await run(store.store(sha256(small), small))
    const big = randomBytes(1024 * 1024)
    const hash = sha256(big)
    const error = await failure(store.store(hash, big))
    expect(error).toMatchObject({ _tag: "ShardStoreFailed", hash })
    expect(error.reason).toContain("ENOSPC")
    expect(filesUnder(dir)).toEqual([path.join(dir, sha256(small).slice(0, 2), sha256(small))])
    expect(await run(store.has(hash))).toBe(false)
    expect(Buffer.from(await run(store.retrieve(sha256(small))))).toEqual(small)
  })
})
