/**
 * Preloaded into every server the bench measures (a PlexiChat node and the
 * bare uWS baseline alike, with `--expose-gc`): on SIGUSR2 the process runs a
 * full GC and prints `[bench-gc] <n> rss=<bytes> heap=<bytes> heapTotal=<bytes> external=<bytes> arrayBuffers=<bytes>`, so that the bench reads the
 * resident memory of both after the same forced collection.
 */
let collections = 0
process.on("SIGUSR2", () => {
  globalThis.gc?.()
  globalThis.gc?.()
  collections += 1
  const m = process.memoryUsage()
  process.stdout.write(`[bench-gc] ${collections} rss=${m.rss} heap=${m.heapUsed} heapTotal=${m.heapTotal} external=${m.external} arrayBuffers=${m.arrayBuffers}\n`)
})
