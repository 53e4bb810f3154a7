/**
 * The backup scenario's baselines, on the same machine in the same run: raw AES-256-GCM of `node:crypto` over the
 * same number of bytes in 1 MiB chunks (the floor of encrypting a backup), and Postgres's own tools on the same
 * database: a plain-format `pg_dump` to a file, and its load with `psql` into an empty database in one transaction.
 * A tool's CPU is read from the shell that waited for it (`/proc/<shell>/stat` cutime + cstime).
 */
import { spawn } from "node:child_process"
import { createCipheriv, randomBytes } from "node:crypto"
import { statSync } from "node:fs"

const MiB = 1024 * 1024

/** AES-256-GCM over `bytes` in 1 MiB chunks, a fresh nonce per chunk, the tag taken: seconds and this process's CPU ms. */
export const rawAesGcm = (bytes: number) => {
  const key = randomBytes(32)
  const chunk = randomBytes(MiB)
  const cpu = process.cpuUsage()
  const started = performance.now()
  for (let done = 0; done < bytes; done += MiB) {
    const cipher = createCipheriv("aes-256-gcm", key, randomBytes(12), { authTagLength: 16 })
    const part = bytes - done >= MiB ? chunk : chunk.subarray(0, bytes - done)
    Buffer.concat([cipher.update(part), cipher.final()])
    cipher.getAuthTag()
  }
  const seconds = (performance.now() - started) / 1000
  const used = process.cpuUsage(cpu)
  return { seconds, cpuMs: (used.user + used.system) / 1000 }
}

/** Runs `command` with its arguments in a shell that prints its waited-for children's CPU at the end. */
const timedTool = (command: string, args: ReadonlyArray<string>) =>
  new Promise<{ seconds: number; cpuMs: number }>((resolve, reject) => {
    const quoted = [command, ...args].map((a) => `'${a.replaceAll("'", "'\\''")}'`).join(" ")
    const started = performance.now()
    const child = spawn("sh", ["-c", `${quoted} && cat /proc/$$/stat`], { stdio: ["ignore", "pipe", "pipe"] })
    let out = ""
    let err = ""
    child.stdout.on("data", (c: Buffer) => (out += c.toString()))
    child.stderr.on("data", (c: Buffer) => (err += c.toString()))
    child.once("error", reject)
    child.once("exit", (code) => {
      if (code !== 0) return reject(new Error(`${command} exited ${code}: ${err.slice(0, 500)}`))
      const fields = out.trim().split("\n").at(-1)!.split(") ")[1]!.split(" ")
      resolve({ seconds: (performance.now() - started) / 1000, cpuMs: (Number(fields[13]) + Number(fields[14])) * 10 })
    })
  })

/** `pg_dump -Fp` of the database at `url` into `file`: seconds, the tool's CPU, the dump's size. */
export const pgDump = async (url: string, file: string) => {
  const run = await timedTool("pg_dump", ["--no-owner", "--no-privileges", "-Fp", "-f", file, url])
  return { ...run, bytes: statSync(file).size }
}

/** The dump loaded by `psql` into the (empty) database at `url`, in one transaction, stopping at the first error. */
export const psqlLoad = (url: string, file: string) => timedTool("psql", ["-q", "-X", "-v", "ON_ERROR_STOP=1", "-1", "-o", "/dev/null", "-f", file, url])
