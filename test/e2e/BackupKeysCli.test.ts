/**
 * `plexichat backup keys` as an operator runs it (the compiled CLI as a real process): the private files get mode
 * 0600 in a 0700 directory, nothing is overwritten, `show` prints the public part and fingerprint of any key
 * file and `export` writes it to a file, never private key material.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, describe, expect, it } from "vitest"
import { decode } from "../../src/backup/crypto/Base64Url.ts"
import { cli } from "../fixtures/AuditCli.ts"

const root = mkdtempSync(join(tmpdir(), "plexi-backup-keys-"))
afterAll(() => rmSync(root, { recursive: true, force: true }))

const mode = (path: string) => statSync(path).mode & 0o777
// The CLI reads no database; the audit fixture's runner passes DATABASE_URL, which these commands ignore.
const keys = (...args: Array<string>) => cli("postgres://unused", ["backup", "keys", ...args])

/** Every base64url field of a private key file, and 16-character slices of them, must be absent from `output`. */
const expectNoPrivate = (output: string, privateFile: string) => {
  const fields = Object.values(JSON.parse(readFileSync(privateFile, "utf8"))).filter((v): v is string => typeof v === "string" && !v.startsWith("plexichat"))
  for (const field of fields) {
    for (let i = 0; i + 16 <= field.length; i += 8) expect(output).not.toContain(field.slice(i, i + 16))
    expect(output).not.toContain(Buffer.from(decode(field)).toString("hex").slice(0, 32))
  }
}

describe("plexichat backup keys", () => {
  it("generate-recipient writes a 0600 private file and a public file, and refuses to overwrite them", async () => {
    const dir = join(root, "ops", "alice")
    const made = await keys("generate-recipient", "--out", dir)
    expect(made.code, made.stderr).toBe(0)
    const [pub, key] = [join(dir, "backup-recipient.pub"), join(dir, "backup-recipient.key")]
    expect([mode(dir), mode(key)]).toEqual([0o700, 0o600])
    expect(JSON.parse(readFileSync(pub, "utf8"))).toMatchObject({ kind: "plexichat.backup.recipient.public", version: 1 })
    expect(JSON.parse(readFileSync(key, "utf8"))).toMatchObject({ kind: "plexichat.backup.recipient.private", version: 1 })
    const fingerprint = /fingerprint ([0-9a-f]{64})/.exec(made.stdout)?.[1]
    expect(fingerprint).toBeDefined()
    expectNoPrivate(made.stdout + made.stderr, key)

    const before = readFileSync(key, "utf8")
    const again = await keys("generate-recipient", "--out", dir)
    expect(again.code).toBe(1)
    expect(again.stderr).toContain("exists already")
    expect(readFileSync(key, "utf8")).toBe(before)

    for (const file of [pub, key]) {
      const shown = await keys("show", file)
      expect(shown.code, shown.stderr).toBe(0)
      expect(shown.stdout).toContain(`fingerprint ${fingerprint}`)
      expect(shown.stdout).toContain(readFileSync(pub, "utf8").trim())
      expectNoPrivate(shown.stdout + shown.stderr, key)
    }
  })

  it("generate-signing writes the Ed25519 pair, and show prints only its public half", async () => {
    const dir = join(root, "cluster")
    const made = await keys("generate-signing", "--out", dir)
    expect(made.code, made.stderr).toBe(0)
    const [pub, key] = [join(dir, "backup-signing.pub"), join(dir, "backup-signing.key")]
    expect(mode(key)).toBe(0o600)
    const shown = await keys("show", key)
    expect(shown.code, shown.stderr).toBe(0)
    expect(shown.stdout).toContain(readFileSync(pub, "utf8").trim())
    expect(shown.stdout).not.toContain("signing.private")
    expectNoPrivate(made.stdout + shown.stdout + shown.stderr, key)
  })

  it("export writes the public half of a private file as a key file of its own, never over a file and never a private key", async () => {
    const dir = join(root, "export")
    expect((await keys("generate-recipient", "--out", dir)).code).toBe(0)
    const [pub, key, out] = [join(dir, "backup-recipient.pub"), join(dir, "backup-recipient.key"), join(dir, "exported.pub")]
    const exported = await keys("export", key, "--out", out)
    expect(exported.code, exported.stderr).toBe(0)
    expect(readFileSync(out, "utf8")).toBe(readFileSync(pub, "utf8"))
    expect(mode(out)).toBe(0o644)
    expectNoPrivate(exported.stdout + exported.stderr + readFileSync(out, "utf8"), key)
    const again = await keys("export", key, "--out", out)
    expect(again.code).toBe(1)
    expect(again.stderr).toContain("nothing is overwritten")
    expect(readFileSync(out, "utf8")).toBe(readFileSync(pub, "utf8"))
    const notKey = await keys("export", "package.json", "--out", join(dir, "never.pub"))
    expect(notKey.code).toBe(1)
    expect(existsSync(join(dir, "never.pub"))).toBe(false)
  })

  it("show refuses a file that is not a key file, naming the file and not its contents", async () => {
    const shown = await keys("show", "package.json")
    expect(shown.code).toBe(1)
    expect(shown.stderr).toContain("package.json: not a PlexiChat backup key file")
    expect(shown.stderr).not.toContain("plexichat.backup.recipient.private\",")
    const missing = await keys("show", join(root, "nope.key"))
    expect(missing.code).toBe(1)
    expect(missing.stderr).toContain("cannot read")
  })
})
