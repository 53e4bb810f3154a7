/**
 * Sealing a byte stream: whatever the input's pieces, the shards are 1 MiB chunks in order (only the last shorter,
 * an exact multiple ending on a full last chunk, an empty stream one empty last chunk), each addressed by its
 * SHA-256, and opening them in order gives the bytes back.
 */
import { createHash, randomBytes } from "node:crypto"
import { fc, test } from "@fast-check/vitest"
import { Chunk, Effect, Stream } from "effect"
import { describe, expect, it } from "vitest"
import { chunkSize, decryptChunk, generateDataKey, sealOverhead } from "../../../src/backup/crypto/ChunkCipher.ts"
import { sealStream } from "../../../src/backup/crypto/ChunkStream.ts"
import { run } from "./Run.ts"

const key = generateDataKey()
const source = randomBytes(3 * chunkSize + 10)

describe("chunk stream", () => {
  const lengths = fc.constantFrom(0, 1, chunkSize - 1, chunkSize, chunkSize + 1, 2 * chunkSize, 3 * chunkSize + 10)
  test.prop([lengths, fc.array(fc.integer({ min: 1, max: 700_000 }), { minLength: 1, maxLength: 6 })], { numRuns: 12 })(
    "cuts any stream into 1 MiB chunks, flags only the last, and opens back to the same bytes",
    (length, cuts) => {
      const bytes = source.subarray(0, length)
      const pieces: Array<Uint8Array> = []
      for (let at = 0, i = 0; at < length; i++) {
        const next = Math.min(length, at + cuts[i % cuts.length]!)
        pieces.push(bytes.subarray(at, next))
        at = next
      }
      const shards = Chunk.toArray(run(Stream.runCollect(Stream.fromIterable(pieces).pipe(sealStream(key, "bk_s")))))
      expect(shards.length).toBe(Math.max(1, Math.ceil(length / chunkSize)))
      expect(shards.map((s) => s.last)).toEqual(shards.map((_, i) => i === shards.length - 1))
      const opened = shards.map((s, i) => {
        expect(s.index).toBe(i)
        expect(s.hash).toBe(createHash("sha256").update(s.sealed).digest("hex"))
        if (!s.last) expect(s.sealed.length).toBe(chunkSize + sealOverhead)
        return run(decryptChunk(key, { backupId: "bk_s", index: i, last: s.last }, s.sealed))
      })
      expect(Buffer.concat(opened).equals(bytes)).toBe(true)
    }
  )

  it("passes the source stream's failure through", () => {
    const failing = Stream.concat(Stream.make(Uint8Array.of(1)), Stream.fail("disk read failed" as const))
    expect(Effect.runSync(Effect.flip(Stream.runDrain(failing.pipe(sealStream(key, "bk_s")))))).toBe("disk read failed")
  })
})
