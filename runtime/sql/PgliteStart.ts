/**
 * Opens the embedded PGlite store lean. PGlite is Postgres compiled to
 * WebAssembly and run inside this process, so everything it touches is this
 * process's resident memory:
 *
 * - `shared_buffers` is allocated and zeroed in the WebAssembly heap at start
 *   (PGlite's default, 128MB, is 128 MiB resident from the first second). A
 *   small pool is enough for a single node: Postgres reads through the OS page
 *   cache, which still caches the data files beneath it.
 * - V8 compiles the 9 MB `pglite.wasm` with its baseline compiler (Liftoff)
 *   and then re-compiles what runs hot with its optimizing one (TurboFan),
 *   about 45 MiB more code and compiler memory that stays resident. Unless
 *   `optimizeWasm` is set, the baseline code is all V8 makes
 *   (`--liftoff-only`, set before the module is compiled).
 * - On a fresh directory PGlite runs `initdb` in a second, temporary PGlite
 *   instance whose memory (≈ 500 MiB) this process would keep after it is
 *   closed; so `initdb` runs in a short-lived child process instead, and this
 *   process then opens the initialised directory.
 */
import { spawn } from "node:child_process"
import { existsSync, mkdirSync } from "node:fs"
import { join } from "node:path"
import { setFlagsFromString } from "node:v8"
import { PGlite } from "@electric-sql/pglite"

export interface PgliteTuning {
  /** Postgres `shared_buffers` ("16MB"). */
  readonly sharedBuffers: string
  /** Let V8 also compile PGlite's WebAssembly with its optimizing tier. */
  readonly optimizeWasm: boolean
}

/** PGlite's own start parameters with this node's settings on top. */
export const startParams = (tuning: PgliteTuning): Array<string> => [
  ...PGlite.defaultStartParams,
  "-c",
  `shared_buffers=${tuning.sharedBuffers}`
]

const v8Flags = (tuning: PgliteTuning): Array<string> => (tuning.optimizeWasm ? [] : ["--liftoff-only"])

// Runs in the child: argv is [node, pglite module URL, directory, start parameters as JSON].
const initdbScript = [
  "const [, url, dir, params] = process.argv",
  "const { PGlite } = await import(url)",
  "const db = await PGlite.create(dir, { startParams: JSON.parse(params) })",
  "await db.close()"
].join("\n")

/** Runs PGlite's `initdb` for `dir` in a child process, so that its memory goes with the child. */
const initdb = (dir: string, tuning: PgliteTuning) =>
  new Promise<void>((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [...v8Flags(tuning), "--input-type=module", "-e", initdbScript, import.meta.resolve("@electric-sql/pglite"), dir, JSON.stringify(startParams(tuning))],
      { stdio: ["ignore", "ignore", "pipe"] }
    )
    let stderr = ""
    // A node stopped during its first start takes the half-done initdb with it.
    const killChild = () => child.kill("SIGKILL")
    process.once("exit", killChild)
    child.stderr.on("data", (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-8192)))
    child.once("error", reject)
    child.once("exit", (code, signal) => {
      process.off("exit", killChild)
      if (code === 0) resolve()
      else reject(new Error(`PGlite initdb in ${dir} failed (${signal ?? code}):\n${stderr}`))
    })
  })

/** Opens (creating and initialising when new) the PGlite store in `dir`. */
export const openPglite = async (dir: string, tuning: PgliteTuning): Promise<PGlite> => {
  mkdirSync(dir, { recursive: true })
  // Set before PGlite compiles its module (on `create`); V8 reads it when it compiles WebAssembly.
  for (const flag of v8Flags(tuning)) setFlagsFromString(flag)
  if (!existsSync(join(dir, "PG_VERSION"))) await initdb(dir, tuning)
  return PGlite.create(dir, { startParams: startParams(tuning) })
}
